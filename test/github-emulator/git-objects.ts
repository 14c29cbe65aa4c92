import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';

/** A file's content as tests write it: text (UTF-8) or exact bytes. */
export type FileContent = string | Uint8Array;

export interface GitBlob {
  readonly type: 'blob';
  readonly sha: string;
  readonly bytes: Uint8Array;
}

export interface GitTreeEntry {
  readonly name: string;
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly sha: string;
}

export interface GitTree {
  readonly type: 'tree';
  readonly sha: string;
  readonly entries: readonly GitTreeEntry[];
}

export interface GitSignature {
  readonly name: string;
  readonly email: string;
  readonly date: string;
}

export interface GitCommit {
  readonly type: 'commit';
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly author: GitSignature;
  readonly committer: GitSignature;
}

export type GitObject = GitBlob | GitTree | GitCommit;

/** A flat listing entry of a tree walked recursively. */
export interface ListedEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly sha: string;
  readonly size?: number;
}

/**
 * Git's object model with git's own ids: a blob, tree or commit written here has the sha git would
 * give it, so the bot's integrity checks and the notes layout behave as against GitHub. Objects are
 * shared by every repository of the emulator, as GitHub shares them within a fork network.
 */
export class GitObjectStore {
  private readonly objects = new Map<string, GitObject>();

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  writeBlob(content: FileContent): GitBlob {
    const bytes = typeof content === 'string' ? new Uint8Array(Buffer.from(content, 'utf8')) : content;
    const sha = hashObject('blob', bytes);
    const blob: GitBlob = { type: 'blob', sha, bytes };
    this.objects.set(sha, blob);
    return blob;
  }

  writeTree(entries: readonly GitTreeEntry[]): GitTree {
    const sorted = [...entries].sort((a, b) => compareTreeNames(a, b));
    const sha = hashObject('tree', treeBody(sorted));
    const tree: GitTree = { type: 'tree', sha, entries: sorted };
    this.objects.set(sha, tree);
    return tree;
  }

  writeCommit(input: Omit<GitCommit, 'type' | 'sha'>): GitCommit {
    const sha = hashObject('commit', commitBody(input));
    const commit: GitCommit = { type: 'commit', sha, ...input };
    this.objects.set(sha, commit);
    return commit;
  }

  /**
   * Writes every object reachable from `sha` into a real repository's object database (`gitDir`, e.g.
   * `<work tree>/.git`) as loose objects, so that the commits made on the emulated GitHub can be
   * pushed to a real git server and fetched from it: the git side of the same repository.
   */
  async copyToGitDir(sha: string, gitDir: string): Promise<void> {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length > 0) {
      const id = queue.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      const object = this.objects.get(id);
      if (!object) throw new Error(`no git object ${id} in the emulator`);
      let body: Uint8Array;
      if (object.type === 'blob') body = object.bytes;
      else if (object.type === 'tree') {
        body = treeBody(object.entries);
        queue.push(...object.entries.filter((e) => e.type !== 'commit').map((e) => e.sha));
      } else {
        body = commitBody(object);
        queue.push(object.tree, ...object.parents);
      }
      const path = join(gitDir, 'objects', id.slice(0, 2), id.slice(2));
      await mkdir(dirname(path), { recursive: true });
      const header = Buffer.from(`${object.type} ${body.length}\0`, 'utf8');
      await writeFile(path, deflateSync(Buffer.concat([header, body])), { flag: 'w' });
    }
  }

  /** Writes a whole tree of files (paths with `/`) and returns the root tree. */
  writeFiles(files: ReadonlyMap<string, FileContent>): GitTree {
    const root: Folder = new Map();
    for (const [path, content] of files)
      insert(root, path.split('/'), { mode: '100644', sha: this.writeBlob(content).sha });
    return this.writeFolder(root);
  }

  /**
   * `POST /git/trees`: entries (paths may contain `/`) on top of `baseTree`; an entry with a null sha
   * deletes the path.
   */
  writeTreeOnBase(
    baseTree: string | undefined,
    entries: readonly { path: string; mode: string; sha: string | null }[],
  ): GitTree {
    const root: Folder = new Map();
    if (baseTree) this.loadFolder(root, baseTree);
    for (const entry of entries) {
      if (entry.sha === null) remove(root, entry.path.split('/'));
      else insert(root, entry.path.split('/'), { mode: entry.mode, sha: entry.sha });
    }
    return this.writeFolder(root);
  }

  /** The tree a commit or tree id stands for. */
  treeOf(sha: string): GitTree | undefined {
    const object = this.objects.get(sha);
    if (object?.type === 'commit') return this.treeOf(object.tree);
    return object?.type === 'tree' ? object : undefined;
  }

  /** The entries of a tree, recursively in git's order (a folder before its contents) or one level. */
  list(treeSha: string, recursive: boolean, prefix = ''): ListedEntry[] {
    const tree = this.treeOf(treeSha);
    if (!tree) return [];
    const out: ListedEntry[] = [];
    for (const entry of tree.entries) {
      const path = `${prefix}${entry.name}`;
      const object = this.objects.get(entry.sha);
      out.push({
        path,
        mode: entry.mode,
        type: entry.type,
        sha: entry.sha,
        ...(object?.type === 'blob' ? { size: object.bytes.length } : {}),
      });
      if (recursive && entry.type === 'tree') out.push(...this.list(entry.sha, true, `${path}/`));
    }
    return out;
  }

  /** Every file of a commit or tree, by path. */
  files(sha: string): Map<string, Uint8Array> {
    const files = new Map<string, Uint8Array>();
    for (const entry of this.list(sha, true)) {
      const object = this.objects.get(entry.sha);
      if (object?.type === 'blob') files.set(entry.path, object.bytes);
    }
    return files;
  }

  /** Whether `ancestor` is `sha` or reachable from it through parents. */
  isAncestor(ancestor: string, sha: string): boolean {
    const seen = new Set<string>();
    const queue = [sha];
    while (queue.length > 0) {
      const current = queue.pop() as string;
      if (current === ancestor) return true;
      if (seen.has(current)) continue;
      seen.add(current);
      const object = this.objects.get(current);
      if (object?.type === 'commit') queue.push(...object.parents);
    }
    return false;
  }

  private writeFolder(folder: Folder): GitTree {
    const entries: GitTreeEntry[] = [];
    for (const [name, node] of folder) {
      if (node instanceof Map) {
        if (node.size === 0) continue;
        entries.push({ name, mode: '40000', type: 'tree', sha: this.writeFolder(node).sha });
      } else
        entries.push({
          name,
          mode: node.mode,
          type: node.mode === '160000' ? 'commit' : 'blob',
          sha: node.sha,
        });
    }
    return this.writeTree(entries);
  }

  private loadFolder(folder: Folder, treeSha: string): void {
    const tree = this.treeOf(treeSha);
    for (const entry of tree?.entries ?? []) {
      if (entry.type === 'tree') {
        const inner: Folder = new Map();
        this.loadFolder(inner, entry.sha);
        folder.set(entry.name, inner);
      } else folder.set(entry.name, { mode: entry.mode, sha: entry.sha });
    }
  }
}

type Folder = Map<string, Folder | { mode: string; sha: string }>;

function insert(folder: Folder, parts: readonly string[], leaf: { mode: string; sha: string }): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  if (rest.length === 0) {
    folder.set(head, leaf);
    return;
  }
  let inner = folder.get(head);
  if (!(inner instanceof Map)) {
    inner = new Map();
    folder.set(head, inner);
  }
  insert(inner, rest, leaf);
}

function remove(folder: Folder, parts: readonly string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  if (rest.length === 0) folder.delete(head);
  else {
    const inner = folder.get(head);
    if (inner instanceof Map) remove(inner, rest);
  }
}

function treeBody(entries: readonly GitTreeEntry[]): Buffer {
  return Buffer.concat(
    entries.flatMap((entry) => [
      Buffer.from(`${entry.mode} ${entry.name}\0`, 'utf8'),
      Buffer.from(entry.sha, 'hex'),
    ]),
  );
}

function commitBody(input: Omit<GitCommit, 'type' | 'sha'>): Buffer {
  const signature = (s: GitSignature) =>
    `${s.name} <${s.email}> ${Math.floor(Date.parse(s.date) / 1000)} +0000`;
  const text = [
    `tree ${input.tree}`,
    ...input.parents.map((p) => `parent ${p}`),
    `author ${signature(input.author)}`,
    `committer ${signature(input.committer)}`,
    '',
    input.message,
  ].join('\n');
  return Buffer.from(text, 'utf8');
}

function hashObject(type: string, body: Uint8Array): string {
  return createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest('hex');
}

/** Git orders tree entries by name, comparing a folder's name as if it ended with `/`. */
function compareTreeNames(a: GitTreeEntry, b: GitTreeEntry): number {
  const key = (e: GitTreeEntry) => Buffer.from(e.type === 'tree' ? `${e.name}/` : e.name, 'utf8');
  return Buffer.compare(key(a), key(b));
}
