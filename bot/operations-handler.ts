import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BotMetrics } from './metrics.js';

/** A route beside Probot's own: answers (true) or leaves the request to the next handler (false). */
export type OperationsHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/**
 * `GET /healthz` and `GET /metrics`, served by Probot's server beside the webhook path and `/ping`.
 * Health says the process serves and when the last delivery came; it calls nothing, so a GitHub outage
 * never makes an orchestrator restart a bot that would only meet the same outage again.
 */
export function createOperationsHandler(metrics: BotMetrics): OperationsHandler {
  return async (request, response) => {
    if (request.method !== 'GET') return false;
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        `${JSON.stringify({
          status: 'ok',
          startedAt: metrics.startedAt.toISOString(),
          lastDeliveryAt: metrics.lastDeliveryAt?.toISOString() ?? null,
        })}\n`,
      );
      return true;
    }
    if (path === '/metrics') {
      const body = await metrics.registry.metrics();
      response.writeHead(200, { 'content-type': metrics.registry.contentType });
      response.end(body);
      return true;
    }
    return false;
  };
}
