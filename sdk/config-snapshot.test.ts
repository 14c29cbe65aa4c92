import { describe, expect, it } from 'vitest';
import { contentId, encodeEnvironmentManifest } from '../core/index.js';
import { ConfigSnapshot } from './config-snapshot.js';

const change = (commit: string) => ({
  commit: commit.repeat(40),
  author: { name: 'Cairn Test', email: 'test@example.com' },
  message: 'A commit',
  time: '2026-01-01T00:00:00.000Z',
});

/** A read as ZooKeeper's readers of a process share it: one files map per manifest. */
function read(files: Record<string, string>) {
  const bytes = new Map(
    Object.entries(files).map(([file, text]) => [file, new Uint8Array(Buffer.from(text))]),
  );
  const contentIds = new Map([...bytes].map(([file, content]) => [file, contentId(content)]));
  const manifest = contentId(encodeEnvironmentManifest({ files: contentIds }));
  return { files: bytes, contentIds, manifest };
}

describe('the snapshot a client serves', () => {
  it('is one object for every read of the process that gave the same files at the same commit', () => {
    const first = read({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    const one = ConfigSnapshot.ofRead(change('1'), first.files, first);
    const again = ConfigSnapshot.ofRead(change('1'), first.files, first);
    expect(again).toBe(one);
    // Another commit naming the same files is another snapshot: it says which commit is served.
    const other = ConfigSnapshot.ofRead(change('2'), first.files, first);
    expect(other).not.toBe(one);
    expect(other.commit).toBe('2'.repeat(40));
  });

  it('computes the difference from a previous snapshot once, and lends unchanged files their parsed values', () => {
    const before = read({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    const after = read({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 2\n', 'c.yaml': 'c: 1\n' });
    const previous = ConfigSnapshot.ofRead(change('3'), before.files, before);
    const parsedA = previous.value('a.yaml');
    const next = ConfigSnapshot.ofRead(change('4'), after.files, { ...after, previous });
    const deltas = next.changesFrom(previous);
    expect(deltas.map((delta) => [delta.file, delta.kind])).toEqual([
      ['b.yaml', 'modified'],
      ['c.yaml', 'added'],
    ]);
    expect(next.changesFrom(previous)).toBe(deltas);
    expect(next.value('a.yaml')).toBe(parsedA);
    expect(next.contentIds()).toBe(next.contentIds());
    expect(next.fileBytes()).toBe(next.fileBytes());
  });

  it('keeps the maps of a read listed in order as its own, and serves the same files at another commit without building anything', () => {
    const cached = read({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n' });
    const snapshot = ConfigSnapshot.of(change('5'), cached.files, { ...cached, checked: true });
    expect(snapshot.fileBytes()).toBe(cached.files);
    expect(snapshot.contentIds()).toBe(cached.contentIds);
    const confirmed = snapshot.at(change('6'));
    expect(confirmed.commit).toBe('6'.repeat(40));
    expect(confirmed.fileBytes()).toBe(cached.files);
    expect(confirmed.sameAs(snapshot)).toBe(false);
    expect(confirmed.at(change('5')).sameAs(snapshot)).toBe(true);
    // Out of order, the snapshot sorts its own.
    const unsorted = new Map([...cached.files].reverse());
    const sorted = ConfigSnapshot.of(change('5'), unsorted, { contentIds: cached.contentIds });
    expect([...sorted.fileBytes().keys()]).toEqual(['a.yaml', 'b.yaml']);
  });

  it('checks a cache’s files against their ids on first use, and never serves or lends one that fails', () => {
    const cached = read({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n', 'c.yaml': 'c: 1\n' });
    // b.yaml's bytes damaged after its id was recorded.
    const files = new Map(cached.files);
    files.set('b.yaml', new Uint8Array(Buffer.from('b: 7\n')));
    const snapshot = ConfigSnapshot.of(change('7'), files, { ...cached, checked: true, unverified: true });
    expect(snapshot.unverifiedFiles()).toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
    expect(snapshot.value('a.yaml')).toEqual({ ok: true, value: { a: 1 } });
    expect(snapshot.hasDamage()).toBe(false);
    expect(snapshot.value('b.yaml')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('content id'),
    });
    expect(snapshot.bytes('b.yaml')).toBeUndefined();
    expect(snapshot.damaged('b.yaml')).toBe(true);
    expect(snapshot.hasDamage()).toBe(true);
    expect(snapshot.unverifiedFiles()).toEqual(['c.yaml']);
    expect(snapshot.verifyContents()).toEqual(['b.yaml']);
    // Lent to other readers without it, so it is read again.
    expect([...snapshot.contentsById().keys()]).toEqual([
      cached.contentIds.get('a.yaml'),
      cached.contentIds.get('c.yaml'),
    ]);
    // The snapshot read again from ZooKeeper takes the right bytes, not the damaged entry.
    const again = ConfigSnapshot.ofRead(change('7'), cached.files, { ...cached, previous: snapshot });
    expect(again.value('b.yaml')).toEqual({ ok: true, value: { b: 1 } });
    expect(again.value('a.yaml')).toBe(snapshot.value('a.yaml'));
    expect(again.hasDamage()).toBe(false);
  });
});
