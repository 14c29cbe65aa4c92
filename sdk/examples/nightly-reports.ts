/**
 * The nightly-reports job as a service of several instances of which exactly one exports at a time:
 * the others stand by and one of them takes over within the ZooKeeper session timeout when the
 * active one dies (active/standby, on Cairn's fenced leader election).
 *
 *   CAIRN_ZK=127.0.0.1:2181 CAIRN_ENV=dev npx tsx sdk/examples/nightly-reports.ts   # start two or three
 *
 * Each instance logs `active` or `standby`; the active one logs each `export step` and checks its
 * lease before every step, so a step never starts once activity may have been lost. Kill the active
 * one (kill -9) and another logs `active`. In a service of your own: `import { CairnClient } from '@cairn-config/sdk'`.
 */
import { pathToFileURL } from 'node:url';
import pino, { type Logger } from 'pino';
import { type ActiveStandby, CairnClient, type Lease, type ServiceConfig } from '../index.js';

export interface NightlyReportsOptions {
  /** Default: CAIRN_ZK, CAIRN_ENV, CAIRN_ZK_SESSION_TIMEOUT (see connect()). */
  readonly zk?: string;
  readonly env?: string;
  /** How long one export step takes here (the real job queries the warehouse). */
  readonly stepMs: number;
  readonly logger: Logger;
}

export interface NightlyReports {
  readonly election: ActiveStandby;
  readonly config: ServiceConfig;
  close(): Promise<void>;
}

export async function startNightlyReports(options: NightlyReportsOptions): Promise<NightlyReports> {
  const { logger, stepMs } = options;
  const cairn = new CairnClient({
    ...(options.zk ? { zk: options.zk } : {}),
    ...(options.env ? { env: options.env } : {}),
    service: 'nightly-reports',
    logger,
  });
  try {
    const config = await cairn.config({ instance: false });
    const election = await cairn.elect('nightly-export', {
      onActive: (lease) => exportWhileActive(config, lease, stepMs, logger),
      onStandby: () => logger.info('standby'),
    });
    return { election, config, close: () => cairn.close() };
  } catch (error) {
    await cairn.close();
    throw error;
  }
}

/** Runs export steps for as long as the lease holds; each step starts only on a valid lease. */
async function exportWhileActive(
  config: ServiceConfig,
  lease: Lease,
  stepMs: number,
  logger: Logger,
): Promise<void> {
  logger.info({ term: lease.term }, 'active');
  let step = 0;
  while (lease.isValid()) {
    const attempts = config.value('export.toml', 'retry.attempts', { default: 3 });
    const feed = config.value('export.toml', 'exports.partner_feed.enabled', { default: false });
    // For a step that must never run twice (a partner upload), ask ZooKeeper itself first.
    if (!(await lease.confirm())) break;
    step++;
    logger.info({ term: lease.term, step, attempts, partnerFeed: feed }, 'export step');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, stepMs);
      lease.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  logger.info({ term: lease.term, steps: step }, 'export stopped: no longer active');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const job = await startNightlyReports({ stepMs: Number(process.env.STEP_MS ?? 1000), logger });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      // Stepping down removes the candidate node at once: a standby takes over without waiting for a timeout.
      job.close().then(() => process.exit(0));
    });
}
