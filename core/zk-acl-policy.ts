import { type AclPrincipalsRecord, decodeAclPrincipalsRecord } from './records/acl-principals-record.js';
import type { ZkLayout, ZkNodeKind } from './zk-layout.js';
import { ZK_OPEN_ACL, ZK_PERMS, type ZkAcl } from './zookeeper/zk-acl.js';
import { ZkError } from './zookeeper/zk-error.js';
import type { ZkSession } from './zookeeper/zk-session.js';

const { READ, WRITE, CREATE, DELETE, ALL } = ZK_PERMS;

/**
 * What each role may do on a kind of node beyond reading it. Everything not listed is the syncer's
 * alone: every role reads every node, the syncer may do everything (ADMIN included, to repair ACLs).
 *
 * ZooKeeper checks a node's own ACL only, never its parents': WRITE on a node lets one set its data,
 * CREATE and DELETE on a folder let one add and remove its children. So the folder a role adds its
 * nodes to grants it CREATE (and DELETE when it removes them), and what a single host may write —
 * its agent record, its task, its claim, its log — grants WRITE to that host's own credential only.
 */
const GRANTS: Partial<
  Record<ZkNodeKind['kind'], Partial<Record<'agent' | 'sdk' | 'operator' | 'host', number>>>
> = {
  'agents-dir': { agent: CREATE | DELETE },
  agent: { host: WRITE },
  'deployment-task': { host: WRITE },
  'deployment-claims': { agent: CREATE | DELETE },
  'deployment-claim': { host: WRITE },
  'deployment-logs': { agent: CREATE },
  'deployment-log': { host: CREATE | DELETE },
  'deployment-controls': { operator: CREATE },
  'instances-dir': { sdk: CREATE },
  'instances-service': { sdk: CREATE },
  'instances-environment': { sdk: CREATE | DELETE },
  instance: { sdk: WRITE },
  'elections-dir': { sdk: CREATE },
  'elections-service': { sdk: CREATE },
  'elections-environment': { sdk: CREATE },
  election: { sdk: CREATE | DELETE },
  'election-candidate': { sdk: WRITE },
};

/**
 * The ACL of every node under a Cairn root, from the principals of its roles (the one policy every
 * part creates nodes with, `cairn acl check` compares against and the syncer repairs to). Nodes
 * outside the root are not Cairn's to police: they keep ZooKeeper's open default.
 */
export class AclPolicy {
  readonly layout: ZkLayout;
  readonly principals: AclPrincipalsRecord;

  constructor(layout: ZkLayout, principals: AclPrincipalsRecord) {
    this.layout = layout;
    this.principals = principals;
  }

  aclFor(path: string): ZkAcl[] {
    const kind = this.layout.kindOf(path);
    if (kind.kind === 'outside') return [...ZK_OPEN_ACL];
    const { roles } = this.principals;
    const perms = new Map<string, number>([
      [roles.syncer, ALL],
      [roles.agent, READ],
      [roles.sdk, READ],
      [roles.operator, READ],
    ]);
    const grant = (id: string | undefined, extra: number | undefined) => {
      if (id !== undefined && extra !== undefined) perms.set(id, (perms.get(id) ?? 0) | READ | extra);
    };
    const grants = GRANTS[kind.kind] ?? {};
    grant(roles.agent, grants.agent);
    grant(roles.sdk, grants.sdk);
    grant(roles.operator, grants.operator);
    // A host without a credential of its own gets nothing to write: `cairn acl add-host` gives it one.
    if ('host' in kind) grant(this.principals.hosts[kind.host], grants.host);
    return [...perms].map(([id, granted]) => ({ perms: granted, scheme: 'digest', id }));
  }
}

/** Whether two ACLs grant the same, whatever the order of their entries. */
export function sameAcl(a: readonly ZkAcl[], b: readonly ZkAcl[]): boolean {
  const key = (acl: readonly ZkAcl[]) =>
    acl
      .map(({ scheme, id, perms }) => `${scheme}\u0000${id}\u0000${perms}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
}

/**
 * Whether a node's ACL, as ZooKeeper showed it, is the policy's. ZooKeeper shows the hash of a digest
 * id only to a session with ADMIN on the node (the syncer's); others see `user:x`, and for them users
 * and permissions are what can be compared.
 */
export function matchesPolicy(shown: readonly ZkAcl[], expected: readonly ZkAcl[]): boolean {
  const hidden = shown.some(({ scheme, id }) => scheme === 'digest' && id.endsWith(':x'));
  const hide = (acl: readonly ZkAcl[]) =>
    acl.map((entry) =>
      entry.scheme === 'digest'
        ? { ...entry, id: `${entry.id.slice(0, entry.id.lastIndexOf(':'))}:x` }
        : entry,
    );
  return hidden ? sameAcl(hide(shown), hide(expected)) : sameAcl(shown, expected);
}

/** An ACL as people read it: `digest:cairn-syncer:…=cdrwa, …`. */
export function formatAcl(acl: readonly ZkAcl[]): string {
  const letters = ['r', 'w', 'c', 'd', 'a'] as const;
  return acl
    .map(({ scheme, id, perms }) => {
      const granted = letters.filter((_, bit) => perms & (1 << bit)).join('');
      return `${scheme}:${id}=${granted || '-'}`;
    })
    .join(', ');
}

/**
 * The root's policy as it stands, or undefined when the root holds no principals (it is not under
 * access control). Fails when the session's credentials cannot read them, or they are corrupt.
 */
export async function readAclPolicy(
  session: ZkSession,
  layout: ZkLayout,
  watcher?: () => void,
): Promise<AclPolicy | undefined> {
  const path = layout.principals();
  if (watcher) await session.exists(path, watcher);
  let node: Awaited<ReturnType<ZkSession['getIfExists']>>;
  try {
    node = await session.getIfExists(path);
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NO_AUTH')
      throw new ZkError(
        'NO_AUTH',
        `the ZooKeeper credentials given cannot read ${path}: pass the credentials cairn acl init gave this role (--zk-auth-file, CAIRN_ZK_AUTH_FILE or CAIRN_ZK_AUTH)`,
        { path, cause: error },
      );
    throw error;
  }
  return node ? new AclPolicy(layout, decodeAclPrincipalsRecord(node.data, path)) : undefined;
}

/**
 * Makes `session` create every node with the ACL of the root's policy, and follows the policy's
 * principals (a host added) for as long as the session lives. A root without principals is not
 * under access control: nodes stay open, as before `cairn acl init`. Resolves with the policy then
 * in force.
 */
export async function followAclPolicy(session: ZkSession, layout: ZkLayout): Promise<AclPolicy | undefined> {
  const follow = async (): Promise<AclPolicy | undefined> => {
    const policy = await readAclPolicy(session, layout, () => {
      // A failed re-read keeps the policy in force: the session is ending, or the record is damaged
      // (only the syncer's credential may write it, and `cairn acl check` reports it).
      follow().catch(() => {});
    });
    session.useAclPolicy(policy ? (path) => policy.aclFor(path) : undefined);
    return policy;
  };
  return follow();
}
