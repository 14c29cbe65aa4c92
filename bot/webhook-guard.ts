import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { discardRequestBody } from '../core/index.js';

/** How much of the bot one sender can occupy; see bot/README.md (Security). */
export interface WebhookGuardLimits {
  /** GitHub caps payloads at 25 MB; the events the bot takes are far smaller. Larger gets 413. */
  readonly maxBodyBytes: number;
  /** Deliveries read and handled at once; more at the same time get 503 (GitHub can redeliver them). */
  readonly maxConcurrent: number;
  /** Time to receive a whole request: a sender that trickles its body is cut off (408). */
  readonly requestTimeoutMs: number;
  /**
   * After a refusal, bytes still read and discarded so the sender sees the answer instead of a reset
   * connection; a sender announcing or sending more is cut off.
   */
  readonly drainBytes: number;
}

export const DEFAULT_WEBHOOK_GUARD_LIMITS: WebhookGuardLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxConcurrent: 16,
  requestTimeoutMs: 10_000,
  drainBytes: 32 * 1024 * 1024,
};

/** Why a delivery was refused before its body was read. */
export type GuardRefusal = 'unsigned' | 'no_length' | 'too_large' | 'busy';

/**
 * Puts limits in front of the webhook path of an HTTP server that Probot built (which reads any body
 * whole, as many at once as arrive): what the headers already condemn — no signature, no declared
 * length, a declared length over the limit — is refused before a byte of the body is read, and at
 * most `maxConcurrent` deliveries are read and handled at once. Everything else, and every other
 * path, goes to the server's own request handlers unchanged. Call it before the server serves a
 * request (right after it starts listening, in the same tick).
 */
export function guardWebhooks(
  server: Server,
  webhookPath: string,
  options: { limits?: Partial<WebhookGuardLimits>; onRefused?: (reason: GuardRefusal) => void } = {},
): void {
  const limits = { ...DEFAULT_WEBHOOK_GUARD_LIMITS, ...options.limits };
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(server.headersTimeout, limits.requestTimeoutMs);
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  let handling = 0;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'POST' && pathOf(request) === webhookPath) {
      const refusal = refusalOf(request, limits, handling);
      if (refusal) {
        options.onRefused?.(refusal.reason);
        refuse(request, response, refusal, limits);
        return;
      }
      handling++;
      response.once('close', () => handling--);
    }
    for (const handler of handlers) handler.call(server, request, response);
  });
}

interface Refusal {
  readonly reason: GuardRefusal;
  readonly status: number;
  readonly message: string;
}

function refusalOf(
  request: IncomingMessage,
  limits: WebhookGuardLimits,
  handling: number,
): Refusal | undefined {
  const { headers } = request;
  if (!headers['x-hub-signature-256'])
    return {
      reason: 'unsigned',
      status: 401,
      message: 'missing X-Hub-Signature-256: deliveries are signed with the webhook secret',
    };
  const length = headers['content-length'];
  if (length === undefined)
    return {
      reason: 'no_length',
      status: 411,
      message: 'missing Content-Length: GitHub declares the length of every delivery',
    };
  if (Number(length) > limits.maxBodyBytes)
    return {
      reason: 'too_large',
      status: 413,
      message: `payload over ${limits.maxBodyBytes} bytes: the bot takes no event that large`,
    };
  if (handling >= limits.maxConcurrent)
    return {
      reason: 'busy',
      status: 503,
      message: `${limits.maxConcurrent} deliveries are being handled already: redeliver later`,
    };
  return undefined;
}

/**
 * Answers at once and closes the connection once the rest of the body is discarded (never held):
 * closing a socket that still receives resets it, and the sender would lose the answer.
 */
function refuse(
  request: IncomingMessage,
  response: ServerResponse,
  refusal: Refusal,
  limits: WebhookGuardLimits,
): void {
  const body = `${JSON.stringify({ error: refusal.reason, message: refusal.message })}\n`;
  response.writeHead(refusal.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...(refusal.status === 503 ? { 'retry-after': '5' } : {}),
  });
  if (Number(request.headers['content-length']) > limits.drainBytes) {
    response.end(body);
    return;
  }
  response.write(body);
  void discardRequestBody(request, limits.drainBytes, limits.requestTimeoutMs).then(() => response.end());
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
