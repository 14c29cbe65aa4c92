import { CONTENT_ID } from '../zk-layout.js';
import { encodeJson, RecordFields } from './record-fields.js';
import { boundedRevision, decodeRevision, type Revision } from './revision.js';

/**
 * `/config/<service>/<env>`: the one node a reader of an environment watches. It names the snapshot
 * the environment serves — the content id of its manifest — and the revision that last changed it.
 * The syncer rewrites it only when the environment's files change, so a commit to one service wakes
 * no reader of another.
 */
export interface EnvironmentPointer {
  /** The commit (and tag) at which the environment's files became what the manifest lists. */
  readonly revision: Revision;
  /** Content id of the environment's manifest (`/content/…`): which file has which content. */
  readonly manifest: string;
  /** How many files the manifest lists, and their total size: for status displays. */
  readonly files: number;
  readonly bytes: number;
}

export function encodeEnvironmentPointer(pointer: EnvironmentPointer): Uint8Array {
  return encodeJson({ ...pointer, revision: boundedRevision(pointer.revision) });
}

export function decodeEnvironmentPointer(data: Uint8Array, path?: string): EnvironmentPointer {
  const fields = RecordFields.parse('environment pointer', data, path);
  return {
    revision: decodeRevision(fields.object('revision')),
    manifest: fields.string('manifest', CONTENT_ID),
    files: fields.integer('files', 0),
    bytes: fields.integer('bytes', 0),
  };
}
