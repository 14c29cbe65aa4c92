import type { Context, Probot } from 'probot';
import type { BotMetrics } from './metrics.js';

/** A webhook event name, with or without its action (`pull_request.opened`), as `app.on` takes it. */
export type WebhookEventName = Extract<Parameters<Probot['on']>[0], string>;

/** A handler of one delivery; it resolves to 'ignored' when it had nothing to do. */
export type DeliveryHandler<E extends WebhookEventName> = (context: Context<E>) => Promise<unknown>;

/**
 * Subscribes handlers to webhook events, at most one per event and action, so that each delivery has
 * exactly one outcome to count: handled, ignored (nothing subscribes to it) or failed (the error goes
 * back to Probot, which answers 500 so the delivery can be redelivered).
 */
export class DeliveryRouter {
  private readonly subscribed = new Set<string>();

  constructor(
    private readonly app: Probot,
    private readonly metrics: BotMetrics,
  ) {
    app.onAny((context) => {
      const action = actionOf(context.payload);
      if (!this.subscribed.has(context.name) && !this.subscribed.has(`${context.name}.${action}`)) {
        metrics.delivered(context.name, action, 'ignored');
      }
    });
  }

  on<E extends WebhookEventName>(events: readonly E[], handler: DeliveryHandler<E>): void {
    for (const event of events) {
      if (this.subscribed.has(event)) throw new Error(`${event} has a handler already: one per event`);
      this.subscribed.add(event);
    }
    this.app.on([...events], async (context) => {
      const action = actionOf(context.payload);
      try {
        const outcome = await handler(context);
        this.metrics.delivered(context.name, action, outcome === 'ignored' ? 'ignored' : 'handled');
      } catch (error) {
        this.metrics.delivered(context.name, action, 'failed');
        throw error;
      }
    });
  }
}

/**
 * Runs the concerns of one delivery side by side, as separate handlers would run: each finishes even
 * when another fails, and every failure is rethrown (several as one AggregateError) for Probot to log.
 */
export async function runConcerns(concerns: readonly Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(concerns);
  const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(
      errors,
      errors.map((error) => (error as Error)?.message ?? String(error)).join('\n'),
    );
  }
}

function actionOf(payload: unknown): string | undefined {
  const action = (payload as { action?: unknown }).action;
  return typeof action === 'string' ? action : undefined;
}
