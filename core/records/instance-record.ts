import { CONTENT_ID } from '../zk-layout.js';
import { COMMIT_SHA, encodeJson, RecordFields } from './record-fields.js';

/** What a running instance says about itself in its ephemeral node under `/instances/<service>/<env>/`. */
export interface InstanceRecord {
  readonly id: string;
  readonly service: string;
  readonly env: string;
  readonly host: string;
  readonly port?: number;
  readonly pid: number;
  /** When the instance started, ISO 8601. */
  readonly startedAt: string;
  /** The commit whose configuration the instance serves; absent before it has any. */
  readonly commit?: string;
  /** When it applied that commit, ISO 8601. */
  readonly appliedAt?: string;
  /** Where that configuration came from: ZooKeeper, or the local cache while ZooKeeper was unreachable. */
  readonly source: 'zookeeper' | 'cache';
  /** Content id (git blob id) of each file it serves, to compare with `git ls-tree`. */
  readonly files: Readonly<Record<string, string>>;
  /** The last commit its validation refused, while it is newer than `commit`. */
  readonly rejected?: { readonly commit: string; readonly reason: string };
}

export function encodeInstanceRecord(record: InstanceRecord): Uint8Array {
  return encodeJson(record);
}

export function decodeInstanceRecord(data: Uint8Array, path?: string): InstanceRecord {
  const fields = RecordFields.parse('instance', data, path);
  const port = fields.optionalInteger('port', 1);
  const commit = fields.optionalString('commit', COMMIT_SHA);
  const appliedAt = fields.optionalString('appliedAt');
  const source = fields.optionalString('source') ?? 'zookeeper';
  if (source !== 'zookeeper' && source !== 'cache') throw fields.fail('source', 'must be zookeeper or cache');
  const rejected = fields.optionalObject('rejected');
  return {
    id: fields.string('id'),
    service: fields.optionalString('service') ?? '',
    env: fields.optionalString('env') ?? '',
    host: fields.string('host'),
    ...(port !== undefined ? { port } : {}),
    pid: fields.integer('pid', 0),
    startedAt: fields.string('startedAt'),
    ...(commit !== undefined ? { commit } : {}),
    ...(appliedAt !== undefined ? { appliedAt } : {}),
    source,
    files: fields.has('files') ? fields.stringMap('files', CONTENT_ID) : {},
    ...(rejected
      ? { rejected: { commit: rejected.string('commit', COMMIT_SHA), reason: rejected.string('reason') } }
      : {}),
  };
}
