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
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** The record in an instance node, or undefined when the node does not hold one. */
export function decodeInstanceRecord(data: Uint8Array): InstanceRecord | undefined {
  let value: Partial<InstanceRecord> | null;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
  if (
    !value ||
    typeof value.id !== 'string' ||
    typeof value.host !== 'string' ||
    typeof value.pid !== 'number' ||
    typeof value.startedAt !== 'string' ||
    (value.port !== undefined && typeof value.port !== 'number') ||
    (value.commit !== undefined && typeof value.commit !== 'string')
  )
    return undefined;
  return { files: {}, source: 'zookeeper', service: '', env: '', ...value } as InstanceRecord;
}
