import {
  type ConfigRepo,
  compareDiagnostics,
  type Diagnostic,
  diagnostic,
  type LoadedConfigRepo,
  loadConfigRepo,
  loadConfigRepoInSlices,
  type RepoModelCache,
  type RepoTree,
  readRepoDir,
  type SliceOptions,
  START_OF_FILE,
} from '../core/index.js';
import { checkManifest } from './manifest-checker.js';
import { checkSemantics } from './semantic-checks.js';

export interface RepoValidation {
  /** Every finding, ordered by file and position. */
  readonly diagnostics: readonly Diagnostic[];
  /** The model of what is valid; use it only when `diagnostics` holds no error. */
  readonly repo: ConfigRepo;
  /** Files parsed: with a cache, only those it did not know. */
  readonly filesParsed: number;
}

/**
 * Validates a config repository tree: syntax of every file, schemas of the manifests, the layout,
 * and the semantic checks across files. Never throws for anything in the tree.
 */
export function validateRepo(tree: RepoTree, options: { cache?: RepoModelCache } = {}): RepoValidation {
  return withSemantics(tree, loadConfigRepo(tree, checkManifest, options.cache));
}

/**
 * `validateRepo`, handing the event loop back between services once a slice's time is spent (see
 * core's `loadConfigRepoInSlices`): how a long-running process (the syncer) validates a large tree.
 */
export async function validateRepoInSlices(
  tree: RepoTree,
  options: { cache?: RepoModelCache } & SliceOptions = {},
): Promise<RepoValidation> {
  return withSemantics(tree, await loadConfigRepoInSlices(tree, checkManifest, options.cache, options));
}

function withSemantics(tree: RepoTree, { repo, diagnostics, filesParsed }: LoadedConfigRepo): RepoValidation {
  // The paths as the tree lists them, each time they are walked: a copy would cost every path.
  const all = [...diagnostics, ...checkSemantics(repo, { [Symbol.iterator]: () => tree.keys() })];
  return { repo, diagnostics: all.sort(compareDiagnostics), filesParsed };
}

/** Validates a directory on disk; files that cannot be read safely (links) are reported too. */
export async function validateRepoDir(dir: string): Promise<RepoValidation> {
  const { tree, skipped } = await readRepoDir(dir);
  const result = validateRepo(tree);
  const skippedDiagnostics = skipped.map((entry) =>
    diagnostic(
      entry.path,
      START_OF_FILE,
      'error',
      'path/unsafe',
      `${entry.reason}: config must be regular files, a link could point outside the repository`,
    ),
  );
  return {
    repo: result.repo,
    diagnostics: [...result.diagnostics, ...skippedDiagnostics].sort(compareDiagnostics),
    filesParsed: result.filesParsed,
  };
}
