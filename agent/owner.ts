import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OwnerNotFoundError } from './errors.js';

const run = promisify(execFile);

/** A user of this host, as the name service knows it. */
export interface HostUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/**
 * The uid, gid and home of a user, through the system's name service (`getent passwd`, so LDAP and
 * the like count too). OwnerNotFoundError when the host has no such user.
 */
export async function lookupOwner(user: string): Promise<HostUser> {
  let line: string;
  try {
    line = (await run('getent', ['passwd', user])).stdout.trim();
  } catch (error) {
    throw new OwnerNotFoundError(user, { cause: error });
  }
  const [, , uid, gid, , home] = line.split(':');
  if (uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid))
    throw new OwnerNotFoundError(user);
  return { name: user, uid: Number(uid), gid: Number(gid), home: home || '/' };
}

/**
 * The user a service's commands (check, reload, deploy, health) run as: its `files.owner`, when the
 * agent runs as root and gives files their owner (not under --prefix). Otherwise undefined: the
 * commands run as the agent's own user — root when no owner is named, or the agent's unprivileged
 * user, which cannot become another.
 */
export function commandUser(
  owner: string | undefined,
  agent: { readonly applyOwner: boolean; readonly uid: number | undefined },
): string | undefined {
  return owner !== undefined && agent.applyOwner && agent.uid === 0 ? owner : undefined;
}
