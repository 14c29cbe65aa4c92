import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { discardRequestBody, LogThrottle } from '../core/index.js';
import { sendJson } from './http-server.js';
import {
  checkDeliveryHeaders,
  type PushDelivery,
  tooLarge,
  verifyWebhook,
  type WebhookRefusal,
  type WebhookRefusalReason,
} from './webhook.js';

/** How much of the syncer one sender can occupy; see syncer/README.md (Security). */
export interface WebhookLimits {
  /** A push payload is far smaller; GitHub's cap is 25 MB. A larger body gets 413, and the next poll fetches. */
  readonly maxBodyBytes: number;
  /** Bodies read at once (each at most maxBodyBytes in memory); more at the same time get 503. */
  readonly maxConcurrentReads: number;
  /** GitHub sends a body at once: one that takes longer gets 408 and its connection is closed. */
  readonly bodyTimeoutMs: number;
  /**
   * After a refusal, bytes still read and discarded so the sender sees the answer instead of a reset
   * connection; a sender that keeps going past this is cut off.
   */
  readonly drainBytes: number;
}

export const DEFAULT_WEBHOOK_LIMITS: WebhookLimits = {
  maxBodyBytes: 5 * 1024 * 1024,
  maxConcurrentReads: 4,
  bodyTimeoutMs: 10_000,
  drainBytes: 32 * 1024 * 1024,
};

export interface WebhookEndpointOptions {
  readonly secret: string;
  readonly logger: Logger;
  /** Told each refused delivery's reason (the syncer counts them in a metric). */
  readonly onRefused: (reason: WebhookRefusalReason) => void;
  /** A verified delivery: a push, or undefined for another event; returns the answer to send. */
  readonly onDelivery: (push: PushDelivery | undefined) => { status: number; body: unknown };
  readonly limits?: Partial<WebhookLimits>;
  /** One warning per reason per minute by default. */
  readonly throttle?: LogThrottle;
}

/**
 * `POST /webhook`: refuses what the headers already condemn (no signature, no event, a declared body
 * over the limit) before reading a byte of the body, reads at most `maxConcurrentReads` bodies at once,
 * each bounded in size and time, then verifies the signature. Every refusal is answered with a short
 * JSON reason and the rest of the body discarded, counted by reason, and logged at most once a minute
 * per reason, so a flood of hostile requests costs neither memory nor the log.
 */
export class WebhookEndpoint {
  private readonly options: WebhookEndpointOptions;
  private readonly limits: WebhookLimits;
  private readonly throttle: LogThrottle;
  private reading = 0;

  constructor(options: WebhookEndpointOptions) {
    this.options = options;
    this.limits = { ...DEFAULT_WEBHOOK_LIMITS, ...options.limits };
    this.throttle = options.throttle ?? new LogThrottle();
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { limits } = this;
    const early = checkDeliveryHeaders(request.headers, limits.maxBodyBytes);
    if (early) return this.refuse(request, response, early);
    if (this.reading >= limits.maxConcurrentReads)
      return this.refuse(request, response, {
        accepted: false,
        status: 503,
        code: 'busy',
        reason: `${limits.maxConcurrentReads} deliveries are being read already: try again; the next poll fetches anyway`,
      });
    this.reading++;
    let body: Buffer | 'too_large' | 'slow';
    try {
      body = await readBoundedBody(request, limits.maxBodyBytes, limits.bodyTimeoutMs);
    } finally {
      this.reading--;
    }
    if (body === 'too_large') return this.refuse(request, response, tooLarge(limits.maxBodyBytes));
    if (body === 'slow')
      return this.refuse(request, response, {
        accepted: false,
        status: 408,
        code: 'slow',
        reason: `the body did not arrive within ${limits.bodyTimeoutMs} ms`,
      });
    const verdict = verifyWebhook(this.options.secret, request.headers, body);
    if (!verdict.accepted) return this.refuse(request, response, verdict);
    const answer = this.options.onDelivery(verdict.push);
    sendJson(response, answer.status, answer.body);
  }

  private refuse(request: IncomingMessage, response: ServerResponse, refusal: WebhookRefusal): void {
    this.options.onRefused(refusal.code);
    const admitted = this.throttle.admit(refusal.code);
    if (admitted)
      this.options.logger.warn(
        { code: refusal.code, reason: refusal.reason, suppressed: admitted.suppressed },
        admitted.suppressed > 0
          ? `webhook refused (and ${admitted.suppressed} more for the same reason in the last minute, not logged)`
          : 'webhook refused',
      );
    const declared = Number(request.headers['content-length']);
    // A sender too slow, or announcing more than is worth reading, is cut off after the answer.
    if (refusal.code === 'slow' || declared > this.limits.drainBytes) {
      response.setHeader('connection', 'close');
      sendJson(response, refusal.status, { error: refusal.reason });
      return;
    }
    // The whole answer goes out at once; the response ends (and Node closes a `Connection: close`
    // socket) only once the rest of the body is discarded. Closing a socket that still receives
    // makes the kernel reset it, and the sender would lose the answer with it.
    const answer = `${JSON.stringify({ error: refusal.reason })}\n`;
    response.writeHead(refusal.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(answer),
    });
    response.write(answer);
    void discardRequestBody(request, this.limits.drainBytes, this.limits.bodyTimeoutMs).then(() =>
      response.end(),
    );
  }
}

/**
 * The body, or why it was not read whole: over `maxBytes` (nothing more is kept from the moment it
 * passes the limit) or slower than `timeoutMs`.
 */
function readBoundedBody(
  request: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<Buffer | 'too_large' | 'slow'> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish('slow'), timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish('too_large');
      else chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks, size));
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const stop = () => {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('error', onError);
      chunks = [];
    };
    const finish = (result: Buffer | 'too_large' | 'slow') => {
      stop();
      resolve(result);
    };
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
