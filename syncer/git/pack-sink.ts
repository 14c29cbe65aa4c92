import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PackIndexError, type PackWriter, startPackWriter } from './index-pack.js';
import type { ObjectStore } from './object-store.js';
import { packDir, temporaryPackName } from './pack-files.js';
import { indexPack } from './pack-indexer.js';

/**
 * Up to this, a pack is kept in memory and indexed here (pack-indexer.ts): a commit's pack holds a
 * few objects, and starting a process would cost it more than indexing them (tens of milliseconds on
 * a busy machine, on the webhook-to-callback path). Indexing inflates and hashes every object at
 * once, so the limits bound how long that holds the event loop, and what it inflates. A larger pack
 * goes to `git index-pack` as it streams in.
 */
export const SMALL_PACK = { objects: 1_000, bytes: 4 * 1024 * 1024 };

/** Where the bytes of one fetched pack go, chosen by its size as it arrives. */
export interface PackSink {
  write(bytes: Uint8Array): Promise<void>;
  /** Resolves once the pack and its index are in the store; rejects with a PackIndexError. */
  finish(): Promise<void>;
  /** Drops what arrived, and what git wrote of it; later writes are refused. Never rejects. */
  abandon(): Promise<void>;
}

export function packSink(store: ObjectStore, limits = SMALL_PACK): PackSink {
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  let writer: PackWriter | undefined;
  let abandoned = false;

  const overflow = async () => {
    writer = startPackWriter(store.gitdir);
    for (const bytes of held.splice(0)) await writer.write(bytes);
  };
  return {
    async write(bytes) {
      // A transfer given up on at its deadline may still be handing on bytes: none goes anywhere.
      if (abandoned) throw new PackIndexError('the pack was given up on');
      if (writer) return writer.write(bytes);
      held.push(bytes);
      heldBytes += bytes.byteLength;
      if (heldBytes > limits.bytes || objectCount(held) > limits.objects) await overflow();
    },
    async finish() {
      try {
        if (writer) return await writer.finish();
        const pack = Buffer.concat(held);
        held.length = 0;
        // An empty pack (the server had nothing to send) is no pack.
        if (objectCount([pack]) === 0) return;
        await indexInMemory(store, pack);
      } finally {
        store.packsChanged?.();
      }
    },
    async abandon() {
      abandoned = true;
      held.length = 0;
      try {
        await writer?.abandon();
      } finally {
        store.packsChanged?.();
      }
    },
  };
}

/** The pack header's object count (bytes 8-11 after "PACK" and the version); 0 before it arrived. */
function objectCount(chunks: readonly Uint8Array[]): number {
  const head = Buffer.concat(chunks.slice(0, 12)).subarray(0, 12);
  return head.length < 12 ? 0 : head.readUInt32BE(8);
}

/**
 * Writes a small pack and its index into the store: checksum checked and index made first, so a pack
 * that cannot be indexed writes nothing; each file written aside and renamed, the index last, since a
 * pack without one is invisible to readers (and half an index would break every read).
 */
async function indexInMemory(store: ObjectStore, pack: Buffer): Promise<void> {
  const body = pack.subarray(0, -20);
  const checksum = pack.subarray(-20);
  if (
    pack.length < 32 ||
    pack.toString('latin1', 0, 4) !== 'PACK' ||
    !createHash('sha1').update(body).digest().equals(checksum)
  ) {
    throw new PackIndexError(`the pack the server sent is damaged (its checksum does not match)`);
  }
  let index: Buffer;
  try {
    index = indexPack(pack);
  } catch (error) {
    throw new PackIndexError(`the pack the server sent cannot be indexed (${(error as Error).message})`, {
      cause: error,
    });
  }
  const name = `pack-${checksum.toString('hex')}`;
  const folder = packDir(store.gitdir);
  const temporary = join(folder, temporaryPackName());
  const written = { pack: `${temporary}.pack`, index: `${temporary}.idx-new` };
  try {
    // The folder is there but in a clone someone emptied by hand: made only when missing.
    await writeFile(written.pack, pack).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(folder, { recursive: true });
      await writeFile(written.pack, pack);
    });
    await writeFile(written.index, index);
    await rename(written.pack, join(folder, `${name}.pack`));
    await rename(written.index, join(folder, `${name}.idx`));
  } catch (error) {
    // A full disk: what was written goes (a killed process's is swept at the next start).
    await Promise.all([rm(written.pack, { force: true }), rm(written.index, { force: true })]).catch(
      () => undefined,
    );
    throw error;
  }
}
