import { createHash } from 'node:crypto';

/** One entry of a node's access control list: who (`scheme`:`id`) may do what (`perms`, a bitmask of ZK_PERMS). */
export interface ZkAcl {
  readonly perms: number;
  /** `world` (id `anyone`), `digest` (id `user:base64(sha1(user:password))`), `ip`, `auth`, ... */
  readonly scheme: string;
  readonly id: string;
}

/** ZooKeeper's permission bits (ZooDefs.Perms); combine them with `|`. */
export const ZK_PERMS = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** Everyone may do everything: the ACL of every node Cairn creates unless told otherwise. */
export const ZK_OPEN_ACL: readonly ZkAcl[] = [{ perms: ZK_PERMS.ALL, scheme: 'world', id: 'anyone' }];

/**
 * The id a `digest` ACL entry names for the credentials `user:password`, as ZooKeeper's
 * DigestAuthenticationProvider derives it: `user:base64(sha1("user:password"))`.
 */
export function digestAclId(credentials: string): string {
  const user = credentials.slice(0, credentials.indexOf(':'));
  return `${user}:${createHash('sha1').update(credentials).digest('base64')}`;
}
