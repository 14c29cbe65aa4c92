import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AclPrincipalsRecord, digestAclId, ROLES, type Role, type ZkLayout } from '../../core/index.js';
import { UsageError } from '../usage-error.js';

/** The digest user of each role's credential. */
export const ROLE_USERS: Readonly<Record<Role, string>> = {
  syncer: 'cairn-syncer',
  agent: 'cairn-agent',
  sdk: 'cairn-sdk',
  operator: 'cairn-operator',
};

/** The digest user of a host's own agent credential. */
export function hostUser(host: string): string {
  return `agent-${host}`;
}

/** Credentials `cairn acl init` and `add-host` hand out: `user:password` by role and by host. */
export interface IssuedCredentials {
  readonly roles: Partial<Record<Role, string>>;
  readonly hosts: Readonly<Record<string, string>>;
}

/** A fresh `user:password` with 144 random bits: nothing to guess, nothing to escape in a file. */
export function newCredentials(user: string): string {
  return `${user}:${randomBytes(18).toString('base64url')}`;
}

/** Checks host names given on the command line: each must be a layout segment and a digest user. */
export function checkHosts(layout: ZkLayout, hosts: readonly string[]): void {
  for (const host of hosts) {
    if (/[:\s]/.test(host)) throw new UsageError(`host "${host}" cannot contain ":" or spaces`);
    try {
      layout.agent(host);
    } catch (error) {
      throw new UsageError(`host ${JSON.stringify(host)}: ${(error as Error).message}`);
    }
  }
}

/** Every role's credentials and those of each host, new. */
export function issueAll(hosts: readonly string[]): {
  roles: Record<Role, string>;
  hosts: Record<string, string>;
} {
  const roles = Object.fromEntries(ROLES.map((role) => [role, newCredentials(ROLE_USERS[role])])) as Record<
    Role,
    string
  >;
  return { roles, hosts: Object.fromEntries(hosts.map((host) => [host, newCredentials(hostUser(host))])) };
}

/** The principals the issued credentials stand for: digest ids only, never a password. */
export function principalsOf(
  roles: Record<Role, string>,
  hosts: Readonly<Record<string, string>>,
): AclPrincipalsRecord {
  return {
    roles: Object.fromEntries(ROLES.map((role) => [role, digestAclId(roles[role])])) as Record<Role, string>,
    hosts: hostPrincipalsOf(hosts),
  };
}

/** The digest ids of hosts' credentials. */
export function hostPrincipalsOf(hosts: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(hosts).map(([host, credentials]) => [host, digestAclId(credentials)]),
  );
}

/** What to run with each file: the parts that present it. */
const USED_BY: Readonly<Record<Role, string>> = {
  syncer: 'cairn sync, cairn start, cairn acl add-host',
  agent: 'cairn agent (with its host credential: use the agent-<host>.auth file)',
  sdk: 'services embedding the SDK',
  operator: 'cairn status, get, history, deploy, acl check; cairn bot',
};

/**
 * Writes one credentials file per role and per host into `dir` (mode 0600): a host's file holds
 * the agent role's line and its own, all `cairn agent` needs. Returns the files written.
 */
export async function writeCredentialFiles(dir: string, issued: IssuedCredentials): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const put = async (name: string, comment: string, lines: readonly string[]) => {
    const file = join(dir, `${name}.auth`);
    await writeFile(file, `# ${comment}\n${lines.join('\n')}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    written.push(file);
  };
  for (const role of ROLES) {
    const credentials = issued.roles[role];
    if (credentials)
      await put(ROLE_USERS[role], `Cairn ${role} credentials, for ${USED_BY[role]}`, [credentials]);
  }
  const agentRole = issued.roles.agent ?? (await agentRoleLine(dir));
  for (const [host, credentials] of Object.entries(issued.hosts))
    await put(hostUser(host), `Cairn agent credentials for host ${host}, for cairn agent --zk-auth-file`, [
      ...(agentRole ? [agentRole] : []),
      credentials,
    ]);
  return written;
}

/** The agent role's line from an earlier `cairn acl init --out-dir` into the same folder, if there. */
async function agentRoleLine(dir: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(dir, `${ROLE_USERS.agent}.auth`), 'utf8');
    return text.split('\n').find((line) => line.startsWith(`${ROLE_USERS.agent}:`));
  } catch {
    // Not there: the host's file then holds its own line only, and the output says to add the role's.
    return undefined;
  }
}

/** The credentials as text to hand out: passwords are shown only here, once. */
export function formatIssued(issued: IssuedCredentials): string {
  const lines: string[] = [];
  for (const role of ROLES) {
    const credentials = issued.roles[role];
    if (credentials) lines.push(`  ${role.padEnd(9)} ${credentials}    (${USED_BY[role]})`);
  }
  for (const [host, credentials] of Object.entries(issued.hosts))
    lines.push(`  host      ${credentials}    (cairn agent on ${host}, with the agent role's line)`);
  return `${lines.join('\n')}\n`;
}

/** How to pass credentials, printed after them. */
export const HOW_TO_PASS = [
  'Pass credentials in a file, one user:password a line, readable by the service alone (chmod 600):',
  '  --zk-auth-file <file>  or  CAIRN_ZK_AUTH_FILE=<file>',
  'or in the environment: CAIRN_ZK_AUTH=user:password[,user:password]; the SDK also takes them as its `auth` option.',
  "An agent presents two: the agent role's and its host's own (agent-<host>).",
].join('\n');
