import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGitSources } from '../../test/support/git-sources.js';
import { CommitNotFoundError } from './index.js';

describe('the history of the tracked branch', () => {
  const fixture = useGitSources();
  const { repository } = fixture;

  it('describes a commit: tree, author, message, committer time, parents', async () => {
    const { url, author, source } = await repository('commit-info');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const first = await author.commit('First');
    await author.write({ 'cairn.yaml': 'a: 2\n' });
    const second = await author.commit('Raise a to 2\n\nBecause the api needs it.', {
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      date: '2024-01-02T03:04:05+02:00',
    });
    await author.push(url);
    await source.fetchHead();

    expect(await source.commitInfo(second)).toEqual({
      commit: second,
      tree: await author.git('rev-parse', 'HEAD^{tree}'),
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      message: 'Raise a to 2\n\nBecause the api needs it.',
      time: '2024-01-02T01:04:05.000Z',
      parents: [first],
    });
    expect((await source.commitInfo(first)).parents).toEqual([]);
  });

  it('remembers a commit once described (a commit never changes), and not a failure to find it', async () => {
    const { author } = await repository('commit-remembered');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const first = await author.commit('First');
    await author.write({ 'cairn.yaml': 'a: 2\n' });
    const second = await author.commit('Second');
    // Read in place: a commit the git command wrote is a loose object, read from its file each time.
    const { source } = fixture.open(author.dir);
    const objectFile = (commit: string) =>
      join(author.dir, '.git', 'objects', commit.slice(0, 2), commit.slice(2));
    const described = await source.commitInfo(first);
    await rm(objectFile(first));
    expect(await source.commitInfo(first)).toEqual(described);

    const bytes = await readFile(objectFile(second));
    await rm(objectFile(second));
    await expect(source.commitInfo(second)).rejects.toBeInstanceOf(CommitNotFoundError);
    await writeFile(objectFile(second), bytes);
    await expect(source.commitInfo(second)).resolves.toMatchObject({ commit: second, parents: [first] });
  });

  it('throws CommitNotFoundError for a commit it does not have', async () => {
    const { url, author, source } = await repository('commit-missing');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    await author.commit('First');
    await author.push(url);
    await source.fetchHead();

    const failure = await source.commitInfo('0'.repeat(40)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommitNotFoundError);
    expect(failure).toMatchObject({ code: 'COMMIT_NOT_FOUND', commit: '0'.repeat(40), url });
  });

  it('tells a fast-forward from a force-push that rewrote history', async () => {
    const { url, author, source } = await repository('force-push');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const base = await author.commit('Base');
    await author.write({ 'cairn.yaml': 'a: 2\n' });
    const oldHead = await author.commit('To be rewritten');
    await author.push(url);
    expect(await source.fetchHead()).toBe(oldHead);

    await author.git('reset', '--quiet', '--hard', base);
    await author.write({ 'cairn.yaml': 'a: 3\n' });
    const rewritten = await author.commit('Rewritten');
    await author.push(url, undefined, { force: true });
    expect(await source.fetchHead()).toBe(rewritten);

    expect(await source.isAncestor(oldHead, rewritten)).toBe(false);
    expect(await source.isAncestor(base, rewritten)).toBe(true);
    expect(await source.isAncestor(rewritten, rewritten)).toBe(true);
    expect(await source.isAncestor(rewritten, base)).toBe(false);

    await author.write({ 'cairn.yaml': 'a: 4\n' });
    const fastForward = await author.commit('Fast-forward');
    await author.push(url);
    expect(await source.fetchHead()).toBe(fastForward);
    expect(await source.isAncestor(rewritten, fastForward)).toBe(true);
    expect(await source.isAncestor(base, fastForward)).toBe(true);
  });

  it('answers false for an ancestor it has never seen, and throws for an unknown commit', async () => {
    const { url, author, source } = await repository('ancestry-unknown');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const head = await author.commit('Only');
    await author.push(url);
    await source.fetchHead();

    expect(await source.isAncestor('a'.repeat(40), head)).toBe(false);
    await expect(source.isAncestor(head, 'a'.repeat(40))).rejects.toBeInstanceOf(CommitNotFoundError);
  });

  it('follows merges when looking for an ancestor', async () => {
    const { url, author, source } = await repository('merges');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    await author.commit('Base');
    await author.git('checkout', '--quiet', '-b', 'feature');
    await author.write({ 'feature.yaml': 'f: 1\n' });
    const onFeature = await author.commit('On the feature branch');
    await author.git('checkout', '--quiet', 'main');
    await author.write({ 'main.yaml': 'm: 1\n' });
    await author.commit('On main');
    await author.git('merge', '--quiet', '--no-edit', 'feature');
    const merge = await author.head();
    await author.push(url);
    expect(await source.fetchHead()).toBe(merge);

    expect((await source.commitInfo(merge)).parents).toHaveLength(2);
    expect(await source.isAncestor(onFeature, merge)).toBe(true);
  });
});
