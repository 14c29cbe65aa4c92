import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a verified GitHub push delivery asks for. */
export interface PushDelivery {
  readonly id: string;
  readonly ref: string;
  readonly after: string;
}

export type WebhookVerdict =
  | { readonly accepted: true; readonly push: PushDelivery | undefined }
  | { readonly accepted: false; readonly status: 400 | 401; readonly reason: string };

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
  const signature = header(headers, 'x-hub-signature-256');
  if (!signature)
    return {
      accepted: false,
      status: 401,
      reason: 'missing X-Hub-Signature-256: sign deliveries with the webhook secret',
    };
  const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    return {
      accepted: false,
      status: 401,
      reason: 'signature does not match: check that the webhook secret matches --webhook-secret',
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
      reason: 'the push payload is not JSON: set the webhook content type to application/json',
    };
  }
  if (typeof payload.ref !== 'string' || typeof payload.after !== 'string') {
    return { accepted: false, status: 400, reason: 'the push payload has no ref or after' };
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
