import { EventEmitter } from 'node:events';
import type { AgentServiceStatus } from '../../core/index.js';

/** What became of a snapshot a deployment assigned to this host. */
export type ConfigOutcome =
  | { readonly kind: 'applied' }
  /** The service's check or reload refused it: the previous files are back. */
  | { readonly kind: 'rejected'; readonly message: string }
  /** The agent keeps no files for the service here (it reads its configuration through the SDK). */
  | { readonly kind: 'no-files' }
  | { readonly kind: 'timeout' };

/** Waits for the files of one snapshot to be applied on this host, or rejected, or a deadline. */
export type AwaitConfig = (manifest: string, timeoutMs: number) => Promise<ConfigOutcome>;

/**
 * Tells a deploy task what the host's service agents did with a snapshot, as their status changes:
 * `changed()` is called whenever a status does (the agent reports it then anyway).
 */
export class ConfigOutcomes {
  private readonly events = new EventEmitter();
  private readonly statusOf: (key: string) => AgentServiceStatus | undefined;

  constructor(statusOf: (key: string) => AgentServiceStatus | undefined) {
    this.statusOf = statusOf;
    this.events.setMaxListeners(0);
  }

  changed(): void {
    this.events.emit('status');
  }

  /** The wait for one service and environment (`key`). */
  forEnvironment(key: string): AwaitConfig {
    return (manifest, timeoutMs) =>
      new Promise((resolve) => {
        const look = (): boolean => {
          const outcome = this.outcomeOf(key, manifest);
          if (!outcome) return false;
          finish(outcome);
          return true;
        };
        const finish = (outcome: ConfigOutcome) => {
          clearTimeout(timer);
          this.events.off('status', look);
          resolve(outcome);
        };
        const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
        this.events.on('status', look);
        look();
      });
  }

  private outcomeOf(key: string, manifest: string): ConfigOutcome | undefined {
    const status = this.statusOf(key);
    if (!status || status.state === 'unmanaged') return { kind: 'no-files' };
    if (status.manifest === manifest && status.state !== 'applying') return { kind: 'applied' };
    if (status.rejected?.manifest === manifest) {
      const run = status.rejected.run;
      const how = run.timedOut ? 'timed out' : `exited ${run.exitCode ?? run.signal ?? 'abnormally'}`;
      return { kind: 'rejected', message: `${run.step} ${how}: ${run.outputTail.slice(-500)}` };
    }
    return undefined;
  }
}
