import type { ZkOp } from '../core/index.js';
import { ZkClient } from '../core/zookeeper/zk-client.js';

/**
 * What the raw baselines share (`syncer.bench.ts`'s raw floor, `raw-mirror-child.ts`): the raw
 * client, git's read of every blob, and multi() in batches. Nothing of the syncer's is used.
 */

/** Bytes one raw multi() carries, and what each operation costs beyond its path and data. */
const BATCH_BYTES = 900 * 1024;
const OP_OVERHEAD_BYTES = 64;

/** A raw ZkClient (no ZkSession, no deadlines), once connected. */
export async function connectRawClient(connectString: string): Promise<ZkClient> {
  const client = new ZkClient({ connectString });
  await new Promise<void>((resolve) => {
    client.on('state', (state) => {
      if (state === 'connected') resolve();
    });
    client.start();
  });
  return client;
}

/**
 * The command that writes every blob of the clone's fetched head to its stdout, as `git cat-file
 * --batch` prints them: `git ls-tree -r` piped to it, in one shell.
 */
export function everyBlobCommand(gitdir: string): [command: string, args: string[]] {
  return [
    'sh',
    [
      '-c',
      'git --git-dir "$1" ls-tree -r "$2" | cut -d" " -f3 | cut -f1 | git --git-dir "$1" cat-file --batch',
      'sh',
      gitdir,
      'refs/remotes/origin/main',
    ],
  ];
}

/** Creates every node, in ~900 KB multi() batches, one after another; resolves with their count. */
export async function createInBatches(
  client: ZkClient,
  nodes: Iterable<readonly [path: string, data: Uint8Array]>,
): Promise<number> {
  let batch: ZkOp[] = [];
  let size = 0;
  let count = 0;
  for (const [path, data] of nodes) {
    const cost = path.length + data.length + OP_OVERHEAD_BYTES;
    if (batch.length > 0 && size + cost > BATCH_BYTES) {
      await client.multi(batch);
      batch = [];
      size = 0;
    }
    batch.push({ op: 'create', path, data });
    size += cost;
    count++;
  }
  if (batch.length > 0) await client.multi(batch);
  return count;
}
