import type { Logger } from 'pino';
import { connectSession, FencedWriter, LeaderElection } from '../core/index.js';
import { claimCacheDir } from './cache-claim.js';
import { compactClone } from './compact-clone.js';
import { openGitSource } from './git/index.js';
import { Mirror, type SyncOutcome } from './mirror.js';
import { checkBranch } from './preflight.js';
import type { SyncerConfig } from './syncer-config.js';
import { openValidationCache } from './validation-cache.js';
import { ensureLayout } from './zk/bootstrap.js';
import { repairAcls } from './zk/repair-acls.js';

/**
 * `cairn sync --once`: mirrors the branch head and returns. It joins the election like any replica,
 * so it never writes beside a running leader; if one holds leadership past the session timeout, it
 * fails saying so (the leader mirrors the head anyway).
 */
export async function syncOnce(config: SyncerConfig, logger: Logger): Promise<SyncOutcome> {
  const cacheClaim = await claimCacheDir(config, logger);
  try {
    return await mirrorOnce(config, logger, cacheClaim.dir);
  } finally {
    await cacheClaim.release();
  }
}

/** Mirrors the branch head once, the clone and validation cache in `cacheDir` (the folder claimed). */
async function mirrorOnce(config: SyncerConfig, logger: Logger, cacheDir: string): Promise<SyncOutcome> {
  const { endpoint } = config;
  const layout = endpoint.layout;
  const source = openGitSource({
    url: config.repo,
    branch: config.branch,
    cacheDir,
    timeoutMs: config.gitTimeoutMs,
    ...(config.gitCredentials ? { credentials: config.gitCredentials } : {}),
    ...(config.treeLimits ? { limits: config.treeLimits } : {}),
    ...(config.packLimit !== undefined ? { packLimit: config.packLimit } : {}),
  });
  try {
    const mirror = new Mirror({
      layout,
      source,
      branch: config.branch,
      logger,
      notesRef: config.notesRef,
      validationCache: openValidationCache(cacheDir, logger),
    });
    await checkBranch(mirror, source, logger);
    const session = await connectSession(endpoint);
    try {
      await ensureLayout(session, layout);
      const election = new LeaderElection(session, {
        dir: layout.syncersDir(),
        prefix: layout.syncerCandidatePrefix(),
        candidatePath: (name) => layout.syncerCandidate(name),
        candidateId: config.replicaId,
      });
      await election.start();
      try {
        await election.waitForLeadership(endpoint.sessionTimeoutMs * 2);
        const target = { session, writer: new FencedWriter(session, () => election.fence()), term: 1 };
        const outcome = await mirror.sync(target);
        if (outcome.kind === 'mirrored') await mirror.collect(target, true);
        await repairAcls(session, layout, logger);
        // Each run's fetch adds a pack to the clone: repacked past the limit, as the daemon does.
        await compactClone(source, logger);
        return outcome;
      } finally {
        await election.close();
      }
    } finally {
      await session.close();
    }
  } finally {
    source.close();
  }
}
