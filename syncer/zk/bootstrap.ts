import { ZkError, type ZkLayout, type ZkSession } from '../../core/index.js';

/**
 * Creates the fixed folders of the layout (the content shards among them); idempotent, run on each
 * session before joining the election. One round trip per level, not one per folder.
 */
export async function ensureLayout(session: ZkSession, layout: ZkLayout): Promise<void> {
  await session.mkdirp(layout.root);
  const folders = layout.fixedFolders();
  const depth = (path: string) => path.split('/').length;
  for (const level of [...new Set(folders.map(depth))].sort((a, b) => a - b)) {
    await Promise.all(
      folders
        .filter((path) => depth(path) === level)
        .map((path) =>
          session.create(path).catch((error: unknown) => {
            if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
          }),
        ),
    );
  }
}
