import type { Logger } from 'pino';
import { LeaderElection, ZkLayout, ZkSession } from '../core/index.js';
import { openGitSource } from './git/index.js';
import { Mirror, type SyncOutcome } from './mirror.js';
import type { SyncerConfig } from './syncer-config.js';
import { ensureLayout } from './zk/bootstrap.js';

/**
 * `cairn sync --once`: mirrors the branch head and returns. It joins the election like any replica,
 * so it never writes beside a running leader; if one holds leadership past the session timeout, it
 * fails saying so (the leader mirrors the head anyway).
 */
export async function syncOnce(config: SyncerConfig, logger: Logger): Promise<SyncOutcome> {
  const layout = new ZkLayout(config.root);
  const source = openGitSource({ url: config.repo, branch: config.branch, cacheDir: config.cacheDir });
  const session = await ZkSession.connect({
    connectString: config.zk,
    sessionTimeoutMs: config.sessionTimeoutMs,
    // Waiting longer to connect than a session lasts buys nothing.
    connectTimeoutMs: config.sessionTimeoutMs,
  });
  try {
    await ensureLayout(session, layout);
    const election = new LeaderElection(session, {
      dir: layout.syncersDir(),
      prefix: layout.syncerCandidatePrefix(),
      candidateId: config.replicaId,
    });
    await election.start();
    try {
      await election.waitForLeadership(config.sessionTimeoutMs * 2);
      const mirror = new Mirror({ session, layout, source, logger, fence: () => election.fence() });
      return await mirror.sync();
    } finally {
      await election.close();
    }
  } finally {
    source.close();
    await session.close();
  }
}
