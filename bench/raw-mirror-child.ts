import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BatchOutputParser } from '../syncer/git/git-command.js';
import { connectRawClient, createInBatches, everyBlobCommand } from './raw-writes.js';

/**
 * The raw baseline as one program, in a process of its own as a restarted syncer is: it reads every
 * blob of the clone's head with `git ls-tree -r` piped to `git cat-file --batch`, then writes the
 * syncer's znodes with the raw client's multi(), one ~900 KB batch after another. The znodes are
 * the syncer's (`spec`, written by the bench): content nodes name the blob whose bytes they hold,
 * which this program must have read; the few others (manifests, pointers, records) are given.
 * Nothing is validated, planned or fenced. Prints one JSON line: the time from the first read to the
 * last write, and each half.
 *
 * Arguments: the connect string, the clone (`--git-dir`), the spec file, and the root to write under
 * (the spec's paths are relative to it).
 */

/** The znodes to write, as bench/syncer.bench.ts's writeRawMirrorSpec writes them. */
interface RawMirrorSpec {
  /** Folders made before the clock starts, as the syncer's layout is before its sync. */
  readonly folders: readonly string[];
  /** In the syncer's order: a blob's id for a content node, or the bytes (base64) of any other. */
  readonly nodes: readonly (readonly [path: string, source: { oid: string } | { base64: string }])[];
}

const [connectString, gitdir, specFile, root] = process.argv.slice(2) as [string, string, string, string];
const spec = JSON.parse(readFileSync(specFile, 'utf8')) as RawMirrorSpec;
const given = new Map(
  spec.nodes.flatMap(([path, source]) =>
    'base64' in source ? [[path, new Uint8Array(Buffer.from(source.base64, 'base64'))] as const] : [],
  ),
);

const client = await connectRawClient(connectString);
for (const folder of ['', ...spec.folders]) await client.create(root + folder);

const started = performance.now();
const blobs = await readEveryBlob(gitdir);
const readMs = performance.now() - started;
await createInBatches(
  client,
  (function* () {
    for (const [path, source] of spec.nodes) {
      const data = 'oid' in source ? blobs.get(source.oid) : given.get(path);
      if (!data) throw new Error(`no bytes for ${path}: git did not list ${JSON.stringify(source)}`);
      yield [root + path, data] as const;
    }
  })(),
);
const ms = performance.now() - started;
await client.close();
process.stdout.write(`${JSON.stringify({ ms, readMs, writeMs: ms - readMs, znodes: spec.nodes.length })}\n`);

/** Every blob of the clone's head, by id, from git's read of them all. */
function readEveryBlob(gitdir: string): Promise<Map<string, Uint8Array>> {
  const blobs = new Map<string, Uint8Array>();
  const parser = new BatchOutputParser((oid, bytes) => blobs.set(oid, bytes));
  const [command, args] = everyBlobCommand(gitdir);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (chunk: Buffer) => parser.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0 || parser.failure)
        reject(new Error(`git ls-tree | git cat-file: ${parser.failure ?? code}`));
      else resolve(blobs);
    });
  });
}
