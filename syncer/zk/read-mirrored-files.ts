import {
  CorruptRecordError,
  type DesiredState,
  decodeEnvironmentManifest,
  type MirroredEnvironment,
  type PublishedState,
  type ZkLayout,
  type ZkSession,
} from '../../core/index.js';

/** Manifests read at once. */
const CONCURRENCY = 64;

/**
 * The snapshots ZooKeeper serves, with their files, for the destructive-change guard. A pointer the
 * desired state keeps names the same manifest the desired state holds, so only the manifests of
 * pointers that change or go are read: what a commit costs is what it changes. A manifest is content,
 * named by its bytes' id, so one that `previous` (the desired state computed before, usually the one
 * ZooKeeper serves) holds under the pointer's id is that very manifest, and is not read either. A
 * manifest that is missing or unreadable is left out: the guard can only weigh what it can read.
 */
export async function readMirroredFiles(
  session: ZkSession,
  layout: ZkLayout,
  published: PublishedState,
  desired: DesiredState,
  previous?: DesiredState,
): Promise<Map<string, MirroredEnvironment>> {
  const mirrored = new Map<string, MirroredEnvironment>();
  const toRead: [key: string, service: string, env: string, manifestId: string][] = [];
  for (const [key, { service, env, manifestId }] of published.environments) {
    if (manifestId === undefined) continue;
    const known = [desired.environments.get(key), previous?.environments.get(key)].find(
      (snapshot) => snapshot?.manifestId === manifestId,
    );
    if (known) mirrored.set(key, known);
    else toRead.push([key, service, env, manifestId]);
  }
  for (let i = 0; i < toRead.length; i += CONCURRENCY) {
    await Promise.all(
      toRead.slice(i, i + CONCURRENCY).map(async ([key, service, env, manifestId]) => {
        const path = layout.content(manifestId);
        const node = await session.getIfExists(path);
        if (!node) return;
        try {
          mirrored.set(key, { service, env, manifest: decodeEnvironmentManifest(node.data, path) });
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
        }
      }),
    );
  }
  return mirrored;
}
