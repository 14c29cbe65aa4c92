import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

/** What became of one webhook delivery. */
export type DeliveryOutcome = 'handled' | 'ignored' | 'failed';

/**
 * The bot's Prometheus metrics, on a registry of its own (so a syncer in the same process keeps its
 * own), served at GET /metrics. Every label value is bounded: event names and actions are GitHub's,
 * check names and conclusions the bot's; no sha, pull request number or login ever becomes a label.
 */
export class BotMetrics {
  readonly registry = new Registry();
  readonly deliveries = new Counter({
    name: 'cairn_bot_webhook_deliveries_total',
    help: 'Webhook deliveries by event, action and outcome: handled, ignored (no Cairn handler for it), failed (answered 500, safe to redeliver)',
    labelNames: ['event', 'action', 'outcome'],
    registers: [this.registry],
  });
  readonly checkRuns = new Counter({
    name: 'cairn_bot_check_runs_completed_total',
    help: 'Check runs the bot concluded, by check name and conclusion',
    labelNames: ['check', 'conclusion'],
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'cairn_bot_webhook_refused_total',
    help: 'Webhook requests refused before their body was read, by reason: unsigned, no_length, too_large, busy',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly startedAt = new Date();
  private lastDelivery: Date | undefined;

  /** Process metrics (CPU, memory, event loop lag, GC, handles) come with Prometheus's usual names. */
  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  delivered(event: string, action: string | undefined, outcome: DeliveryOutcome): void {
    this.lastDelivery = new Date();
    this.deliveries.inc({ event, action: action ?? '', outcome });
  }

  checkRunCompleted(check: string, conclusion: string): void {
    this.checkRuns.inc({ check, conclusion });
  }

  /** When the last delivery came in: a bot that hears nothing for long may have a broken webhook. */
  get lastDeliveryAt(): Date | undefined {
    return this.lastDelivery;
  }
}
