import type { Logger } from 'pino';
import {
  findAclDrift,
  readAclPolicy,
  repairAclDrift,
  type ZkLayout,
  type ZkSession,
} from '../../core/index.js';

/**
 * Gives every node under the root the ACL of its access policy again, as the mirror gives a
 * hand-edited node its content again; nothing to do on a root not under access control. setAcl
 * cannot join a fenced transaction, so a replica that just lost leadership may still repair: it
 * writes only what the policy says, which is what the new leader would write.
 */
export async function repairAcls(session: ZkSession, layout: ZkLayout, logger: Logger): Promise<string[]> {
  const policy = await readAclPolicy(session, layout);
  if (!policy) return [];
  const { drift } = await findAclDrift(session, policy);
  if (drift.length === 0) return [];
  const repaired = await repairAclDrift(session, drift);
  if (repaired.length > 0)
    logger.warn(
      { code: 'ACL_REPAIRED', nodes: repaired.length, paths: repaired.slice(0, 20) },
      `gave ${repaired.length} node(s) their policy ACL again: changed by hand, or created before a host had a credential`,
    );
  return repaired;
}
