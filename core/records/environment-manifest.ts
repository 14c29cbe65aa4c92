import { unsafePathReason } from '../path-safety.js';
import { CONTENT_ID } from '../zk-layout.js';
import { RecordFields } from './record-fields.js';

/**
 * An environment's snapshot: each file's path within the service's config folder and the content id
 * of its bytes. Stored as content itself (`/content/<id>`), immutable, so a pointer flip is all it
 * takes to publish a new snapshot, and an unchanged environment keeps its manifest from commit to
 * commit.
 */
export interface EnvironmentManifest {
  /** Path → content id, sorted by path. */
  readonly files: ReadonlyMap<string, string>;
}

/** Canonical bytes (paths sorted), so equal manifests have equal content ids. */
export function encodeEnvironmentManifest(manifest: EnvironmentManifest): Uint8Array {
  const files: Record<string, string> = {};
  for (const path of [...manifest.files.keys()].sort()) files[path] = manifest.files.get(path) as string;
  return Buffer.from(JSON.stringify({ files }), 'utf8');
}

export function decodeEnvironmentManifest(data: Uint8Array, path?: string): EnvironmentManifest {
  const fields = RecordFields.parse('environment manifest', data, path);
  const files = fields.stringMap('files', CONTENT_ID);
  for (const file of Object.keys(files)) {
    // A reader writes these paths to disk (the agent): refuse anything that could escape its folder.
    const unsafe = unsafePathReason(file);
    if (unsafe) throw fields.fail(`files.${file}`, `is not a safe file path: ${unsafe}`);
  }
  return { files: new Map(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) };
}
