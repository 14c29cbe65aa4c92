import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a verified GitHub push delivery asks for. */
export interface PushDelivery {
  readonly id: string;
  readonly ref: string;
  readonly after: string;
}

/** Why a delivery was refused: the label of `cairn_syncer_webhook_refused_total`, a small fixed set. */
export type WebhookRefusalReason =
  | 'unsigned'
  | 'no_event'
  | 'too_large'
  | 'busy'
  | 'slow'
  | 'bad_signature'
  | 'bad_payload';

export interface WebhookRefusal {
  readonly accepted: false;
  readonly status: 400 | 401 | 408 | 413 | 503;
  readonly code: WebhookRefusalReason;
  readonly reason: string;
}

export type WebhookVerdict =
  | { readonly accepted: true; readonly push: PushDelivery | undefined }
  | WebhookRefusal;

/**
 * What the headers alone decide, before a byte of the body is read: a delivery without a signature
 * or an event name is not GitHub's, and one that declares a body over `maxBodyBytes` is refused
 * without reading it. Undefined when the body is worth reading.
 */
export function checkDeliveryHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  maxBodyBytes: number,
): WebhookRefusal | undefined {
  if (!header(headers, 'x-hub-signature-256'))
    return {
      accepted: false,
      status: 401,
      code: 'unsigned',
      reason: 'missing X-Hub-Signature-256: sign deliveries with the webhook secret',
    };
  if (!header(headers, 'x-github-event'))
    return {
      accepted: false,
      status: 400,
      code: 'no_event',
      reason: 'missing X-GitHub-Event: only GitHub webhook deliveries are accepted here',
    };
  const declared = Number(header(headers, 'content-length'));
  if (declared > maxBodyBytes) return tooLarge(maxBodyBytes);
  return undefined;
}

/** The refusal of a body over the limit, declared or found while reading. */
export function tooLarge(maxBodyBytes: number): WebhookRefusal {
  return {
    accepted: false,
    status: 413,
    code: 'too_large',
    reason: `payload over ${maxBodyBytes} bytes: the syncer reads only pushes, and the next poll fetches this one`,
  };
}

/**
 * Checks a webhook delivery: the `X-Hub-Signature-256` HMAC of the exact body with the shared secret
 * (compared in constant time), then the event. Anything unsigned or forged is refused with 401 and
 * changes nothing. Events other than push are accepted and ignored (`push` undefined).
 */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: Buffer,
): WebhookVerdict {
  const refusal = checkDeliveryHeaders(headers, Number.POSITIVE_INFINITY);
  if (refusal) return refusal;
  const signature = header(headers, 'x-hub-signature-256') ?? '';
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    return {
      accepted: false,
      status: 401,
      code: 'bad_signature',
      reason:
        'signature does not match: check that the webhook secret matches --webhook-secret-file (or --webhook-secret)',
    };
  }
  const event = header(headers, 'x-github-event');
  if (event !== 'push') return { accepted: true, push: undefined };
  let payload: { ref?: unknown; after?: unknown };
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    // Signed but not JSON: the sender is misconfigured (form encoding?), not an attacker.
    return {
      accepted: false,
      status: 400,
      code: 'bad_payload',
      reason: 'the push payload is not JSON: set the webhook content type to application/json',
    };
  }
  if (typeof payload?.ref !== 'string' || typeof payload.after !== 'string') {
    return {
      accepted: false,
      status: 400,
      code: 'bad_payload',
      reason: 'the push payload has no ref or after',
    };
  }
  return {
    accepted: true,
    push: { id: header(headers, 'x-github-delivery') ?? '', ref: payload.ref, after: payload.after },
  };
}

function header(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Remembers recent delivery ids, so a redelivered webhook triggers nothing twice. */
export class DeliveryLog {
  private readonly seen = new Set<string>();
  private readonly capacity: number;

  constructor(capacity = 1000) {
    this.capacity = capacity;
  }

  /** True the first time an id is seen. Empty ids are always new. */
  firstTime(id: string): boolean {
    if (id === '') return true;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }
}
