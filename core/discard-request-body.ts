import type { IncomingMessage } from 'node:http';

/**
 * Reads and drops the rest of a refused request's body, so the connection closes only after the
 * sender finished: closing a socket that still receives makes the kernel reset it, and the sender
 * would lose the answer with it. A sender past `maxBytes` or slower than `timeoutMs` is cut off.
 * Nothing is kept. Resolves when the body ended or the request was cut off.
 */
export function discardRequestBody(
  request: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<void> {
  if (request.complete) return Promise.resolve();
  return new Promise((resolve) => {
    let discarded = 0;
    const timer = setTimeout(() => request.destroy(), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    request.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > maxBytes) request.destroy();
    });
    request.once('end', done).once('close', done);
    // A sender that hangs up meanwhile is no news: the refusal is answered and counted already.
    request.on('error', () => undefined);
    request.resume();
  });
}
