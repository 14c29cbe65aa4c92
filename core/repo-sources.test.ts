import { afterEach, describe, expect, it, vi } from 'vitest';
import { FolderTree } from './folder-tree.js';
import { type SourcesCache, sortRepoSources, sortRepoSourcesSteps } from './repo-sources.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

const files: [string, Uint8Array][] = [
  ['cairn.yaml', bytes('apiVersion: cairn/v1\n')],
  ['policy.yaml', bytes('apiVersion: cairn/v1\n')],
  ['services.yaml', bytes('x\n')],
  ['services/README.md', bytes('x\n')],
  ['services/api/service.yaml', bytes('a\n')],
  ['services/api/config/app.yaml', bytes('a\n')],
  ['services/api/config/@prod/app.yaml', bytes('a\n')],
  ['services/api/releases/prod.yaml', bytes('a\n')],
  ['services/api/notes.txt', bytes('a\n')],
  ['services/web/service.yaml', bytes('w\n')],
  ['services/web/config/bad\\name.yaml', bytes('w\n')],
];

function cache(): SourcesCache {
  return { folders: new WeakMap() };
}

describe('sorting a tree into its places', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('pauses after each service folder, and sorts as in one go', () => {
    const steps = sortRepoSourcesSteps(FolderTree.of(files), cache());
    let pauses = 0;
    let step = steps.next();
    for (; !step.done; step = steps.next()) pauses++;
    // services/api and services/web; services/README.md is a file, not a folder.
    expect(pauses).toBe(2);
    const whole = sortRepoSources(FolderTree.of(files), cache());
    expect([...step.value.services]).toEqual([...whole.services]);
    expect(step.value.unsafe).toEqual(whole.unsafe);
  });

  it('sorts a FolderTree, folder by folder, as it sorts the same paths one by one', () => {
    const byFolder = sortRepoSources(FolderTree.of(files), cache());
    const byPath = sortRepoSources(new Map(files));

    expect(byFolder.hasSettings && byFolder.hasPolicy).toBe(true);
    expect([...byFolder.services]).toEqual([...byPath.services]);
    expect(byFolder.unsafe).toEqual(byPath.unsafe);
    expect(byFolder.unsafe.map((u) => u.path)).toEqual(['services/web/config/bad\\name.yaml']);
    expect([...byFolder.folders.keys()]).toEqual(['api', 'web']);
  });

  it('does not walk again a service folder that is the same object', () => {
    const shared = cache();
    const tree = FolderTree.of(files);
    const first = sortRepoSources(tree, shared);
    const next = tree.withChanges([['services/api/config/app.yaml', bytes('b\n')]], []);
    const walked: string[] = [];
    const entries = FolderTree.prototype.entries;
    vi.spyOn(FolderTree.prototype, 'entries').mockImplementation(function (this: FolderTree) {
      walked.push(this.prefix);
      return entries.call(this);
    });

    const second = sortRepoSources(next, shared);

    expect(walked).toContain('services/api/');
    expect(walked).not.toContain('services/web/');
    expect(second.services.get('web')).toBe(first.services.get('web'));
    expect(second.services.get('api')).not.toBe(first.services.get('api'));
    expect(second.unsafe).toEqual(first.unsafe);
  });
});
