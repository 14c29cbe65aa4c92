import {
  AclPolicy,
  type AclPrincipalsRecord,
  CairnError,
  digestCredentials,
  encodeAclPrincipalsRecord,
  findAclDrift,
  readAclPolicy,
  repairAclDrift,
  ZkSession as Session,
  ZkError,
  type ZkSession,
  type ZooKeeperEndpoint,
} from '../../core/index.js';
import {
  checkHosts,
  hostPrincipalsOf,
  hostUser,
  type IssuedCredentials,
  issueAll,
  newCredentials,
  principalsOf,
} from './role-credentials.js';

/** A root already under access control: `init` would lock out the credentials handed out before. */
export class AclAlreadySetUpError extends CairnError {
  constructor(root: string) {
    super(
      'ACL_ALREADY_SET_UP',
      `${root} is under access control already: add hosts with cairn acl add-host (with the syncer's credentials), or choose another --root`,
    );
  }
}

/**
 * `cairn acl init`: new credentials for every role (and the hosts named), the root created with the
 * policy's ACL (or, when it exists, every node under it given its policy's ACL) and its principals
 * written. Connects as the new syncer, so it keeps every right on what it sets up.
 */
export async function setUpAcl(
  endpoint: ZooKeeperEndpoint,
  hosts: readonly string[],
): Promise<{ issued: IssuedCredentials; repaired: number }> {
  const { layout } = endpoint;
  checkHosts(layout, hosts);
  const issued = issueAll(hosts);
  const session = await Session.connect({
    connectString: endpoint.connectString,
    sessionTimeoutMs: endpoint.sessionTimeoutMs,
    connectTimeoutMs: endpoint.connectTimeoutMs,
    requestTimeoutMs: endpoint.requestTimeoutMs,
    auth: [digestCredentials(issued.roles.syncer)],
  });
  try {
    if (await isUnderAccessControl(session, endpoint)) throw new AclAlreadySetUpError(layout.root);
    const policy = new AclPolicy(layout, principalsOf(issued.roles, issued.hosts));
    session.useAclPolicy((path) => policy.aclFor(path));
    await session.mkdirp(layout.root);
    try {
      await session.create(layout.principals(), encodeAclPrincipalsRecord(policy.principals));
    } catch (error) {
      if (error instanceof ZkError && error.code === 'NODE_EXISTS')
        throw new AclAlreadySetUpError(layout.root);
      throw error;
    }
    // A root used without access control until now: close every node Cairn wrote there.
    const repaired = await repairAclDrift(session, (await findAclDrift(session, policy)).drift);
    return { issued, repaired: repaired.length };
  } finally {
    await session.close();
  }
}

/**
 * `cairn acl add-host`: a new credential for each host (a host named again gets a new one, and its
 * old one stops working), written into the principals; the syncer gives the hosts' nodes their ACL.
 */
export async function addHosts(
  session: ZkSession,
  endpoint: ZooKeeperEndpoint,
  hosts: readonly string[],
): Promise<IssuedCredentials> {
  const { layout } = endpoint;
  checkHosts(layout, hosts);
  const policy = await readAclPolicy(session, layout);
  if (!policy)
    throw new CairnError(
      'ACL_NOT_SET_UP',
      `${layout.root} is not under access control: run cairn acl init first`,
    );
  const issued = Object.fromEntries(hosts.map((host) => [host, newCredentials(hostUser(host))]));
  const principals: AclPrincipalsRecord = {
    roles: policy.principals.roles,
    hosts: { ...policy.principals.hosts, ...hostPrincipalsOf(issued) },
  };
  try {
    await session.set(layout.principals(), encodeAclPrincipalsRecord(principals));
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NO_AUTH')
      throw new ZkError(
        'NO_AUTH',
        `only the syncer's credentials may add hosts: pass its file with --zk-auth-file`,
        { cause: error },
      );
    throw error;
  }
  // The hosts' nodes that exist already (a record, tasks) get their new ACL now rather than at the syncer's next pass.
  const updated = new AclPolicy(layout, principals);
  await repairAclDrift(session, (await findAclDrift(session, updated)).drift);
  return { roles: {}, hosts: issued };
}

async function isUnderAccessControl(session: ZkSession, endpoint: ZooKeeperEndpoint): Promise<boolean> {
  try {
    return (await readAclPolicy(session, endpoint.layout)) !== undefined;
  } catch (error) {
    // Unreadable to a stranger: some policy protects it.
    if (error instanceof ZkError && error.code === 'NO_AUTH') return true;
    throw error;
  }
}
