import { describe, expect, it } from 'vitest';
import { FLUSH, type Packet, pktLine, readPackets } from './pkt-line.js';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let start = 0; start < bytes.length; start += size) yield bytes.subarray(start, start + size);
}

async function packets(bytes: Buffer, size: number): Promise<(string | null)[]> {
  const read: Packet[] = [];
  for await (const packet of readPackets(chunked(bytes, size))) read.push(packet);
  return read.map((packet) => (packet === null ? null : packet.toString('latin1')));
}

describe('pkt-lines', () => {
  it('frames a line with its length in four hex digits, counting them', () => {
    expect(pktLine('done\n')).toBe('0009done\n');
    expect(pktLine('é\n')).toBe('0007é\n');
  });

  it('reads the same packets however the bytes are cut into chunks', async () => {
    const answer = Buffer.from(`${pktLine('NAK\n')}${pktLine('\u0001PACK-bytes')}${FLUSH}`, 'latin1');
    const whole = await packets(answer, answer.length);
    expect(whole).toEqual(['NAK\n', '\u0001PACK-bytes', null]);
    for (const size of [1, 2, 3, 5, 7]) expect(await packets(answer, size)).toEqual(whole);
  });

  it('refuses what is not pkt-lines, and an answer cut inside a packet, as a ParseError', async () => {
    await expect(packets(Buffer.from('<html>'), 64)).rejects.toMatchObject({ code: 'ParseError' });
    await expect(packets(Buffer.from('0010NAK'), 64)).rejects.toMatchObject({ code: 'ParseError' });
  });
});
