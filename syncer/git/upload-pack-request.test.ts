import { describe, expect, it } from 'vitest';
import { uploadPackRequest } from './fetch-pack.js';

const WANT = 'a'.repeat(40);
const HAVE = 'b'.repeat(40);

describe('an upload-pack request', () => {
  it('wants one object with the capabilities the server offers (never a thin pack), offers the have, and is done', () => {
    const offered = new Set(['multi_ack_detailed', 'side-band-64k', 'thin-pack', 'ofs-delta', 'no-done']);
    expect(uploadPackRequest({ want: WANT, have: HAVE }, offered)).toBe(
      `0056want ${WANT} side-band-64k ofs-delta agent=cairn\n00000032have ${HAVE}\n0009done\n`,
    );
  });

  it('offers no have on a first clone, and asks for nothing the server does not offer', () => {
    expect(uploadPackRequest({ want: WANT }, new Set(['side-band-64k']))).toBe(
      `004cwant ${WANT} side-band-64k agent=cairn\n00000009done\n`,
    );
  });
});
