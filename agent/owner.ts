import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OwnerNotFoundError } from './errors.js';

const run = promisify(execFile);

/**
 * The uid and gid of a user, through the system's name service (`getent passwd`, so LDAP and the
 * like count too). OwnerNotFoundError when the host has no such user.
 */
export async function lookupOwner(user: string): Promise<{ uid: number; gid: number }> {
  let line: string;
  try {
    line = (await run('getent', ['passwd', user])).stdout.trim();
  } catch (error) {
    throw new OwnerNotFoundError(user, { cause: error });
  }
  const [, , uid, gid] = line.split(':');
  if (uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid))
    throw new OwnerNotFoundError(user);
  return { uid: Number(uid), gid: Number(gid) };
}
