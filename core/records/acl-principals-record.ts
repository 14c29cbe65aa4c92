import { encodeJson, RecordFields } from './record-fields.js';

/** The roles Cairn's ACLs grant to: each holds one digest credential. */
export const ROLES = ['syncer', 'agent', 'sdk', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/**
 * `/principals`: who each role is, as the digest ids ACL entries name (`user:base64(sha1(user:password))`;
 * never a password). Every part reads it to set the ACL of what it creates; only the syncer's
 * credential may change it. Its presence is what turns access control on for a root.
 */
export interface AclPrincipalsRecord {
  readonly roles: Readonly<Record<Role, string>>;
  /** Per host, the id of the host's own agent credential (`agent-<host>`): what only it may write. */
  readonly hosts: Readonly<Record<string, string>>;
}

/** A digest ACL id: a user name without ":" and the base64 of a 20-byte SHA-1. */
export const DIGEST_ID = /^[^:\s]+:[A-Za-z0-9+/]{27}=$/;

export function encodeAclPrincipalsRecord(record: AclPrincipalsRecord): Uint8Array {
  return encodeJson({ format: 1, roles: record.roles, hosts: record.hosts });
}

export function decodeAclPrincipalsRecord(data: Uint8Array, path?: string): AclPrincipalsRecord {
  const fields = RecordFields.parse('acl principals', data, path);
  const format = fields.integer('format', 1);
  if (format !== 1) throw fields.fail('format', `is ${format}, and this Cairn reads format 1: upgrade it`);
  const roles = fields.object('roles');
  return {
    roles: {
      syncer: roles.string('syncer', DIGEST_ID),
      agent: roles.string('agent', DIGEST_ID),
      sdk: roles.string('sdk', DIGEST_ID),
      operator: roles.string('operator', DIGEST_ID),
    },
    hosts: fields.stringMap('hosts', DIGEST_ID),
  };
}
