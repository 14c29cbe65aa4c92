import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHashingBody } from './hashing-file-read.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('readHashingBody', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-hashing-read-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('reads a file of many chunks whole, with the sha256 of all after its first line', async () => {
    // About 2.3 MB: chunks read several at once, hashed in order whichever arrives first.
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `line ${i}`).join('\n'));
    const bytes = Buffer.concat([Buffer.from('a header\n'), body]);
    const path = join(scratch, 'many-chunks');
    await writeFile(path, bytes);
    const progress: { filled: number; same: boolean }[] = [];
    const read = await readHashingBody(path, {
      onProgress: (whole, filled) => {
        progress.push({ filled, same: whole.subarray(0, filled).equals(bytes.subarray(0, filled)) });
      },
    });
    expect(read.bytes.equals(bytes)).toBe(true);
    expect(read.bodySha256).toBe(sha256(body));
    // Told as the bytes arrive, in order, with everything before `filled` read.
    const filled = progress.map((p) => p.filled);
    expect(filled.length).toBeGreaterThan(1);
    expect(filled).toEqual([...filled].sort((a, b) => a - b));
    expect(progress.every((p) => p.same)).toBe(true);
  });

  it('hashes the body of a one-chunk file, and says so when there is no first line to end', async () => {
    const path = join(scratch, 'small');
    await writeFile(path, 'header\nbody\n');
    expect(await readHashingBody(path)).toEqual({
      bytes: Buffer.from('header\nbody\n'),
      bodySha256: sha256(Buffer.from('body\n')),
    });
    await writeFile(path, 'no line ends here');
    expect((await readHashingBody(path)).bodySha256).toBeUndefined();
    await writeFile(path, '');
    expect(await readHashingBody(path)).toEqual({ bytes: Buffer.alloc(0), bodySha256: undefined });
  });

  it('hashes nothing when the first line says the body needs no hash', async () => {
    const path = join(scratch, 'unhashed');
    await writeFile(path, 'self-checked\nbody\n');
    const lines: string[] = [];
    const read = await readHashingBody(path, {
      hashBody: (line) => {
        lines.push(line.toString());
        return false;
      },
    });
    expect(read).toEqual({ bytes: Buffer.from('self-checked\nbody\n'), bodySha256: undefined });
    expect(lines).toEqual(['self-checked']);
  });

  it('fails with the file system’s code for a file that is not there', async () => {
    await expect(readHashingBody(join(scratch, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
