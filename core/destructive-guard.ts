import type { ConfigRepo } from './config-repo.js';
import type { DesiredState } from './desired-state.js';
import { type Diagnostic, diagnostic, START_OF_FILE } from './diagnostic.js';
import type { EnvironmentManifest } from './records/environment-manifest.js';
import { SETTINGS_FILE } from './repo-layout.js';

/** One environment snapshot of a service as the mirror holds it (a DesiredEnvironment is one). */
export interface MirroredEnvironment {
  readonly service: string;
  readonly env: string;
  readonly manifest: EnvironmentManifest;
}

/** Services named in a diagnostic before the rest are counted. */
const NAMED = 5;

/**
 * What is destructive in going from the mirrored snapshots `before` (by `environmentKey`) to
 * `after`, as far as `repo`'s `guard` settings (cairn.yaml, of the commit that would go live) do not
 * allow it. Like Argo CD's `allowEmpty: false`, an accidental deletion (a bad merge, a force-push of
 * the wrong branch) is refused instead of mirrored as every service's configuration gone:
 *
 * - `guard/empty-environment`: an environment that served services serves none (its services or the
 *   environment itself removed), unless `guard.allowEmpty`;
 * - `guard/removed-share`: more than `guard.maxRemovedShare` of the mirrored files are removed. Files
 *   of environments left empty are judged by the first rule alone, so `allowEmpty: true` is all it
 *   takes to empty an environment deliberately.
 *
 * With nothing mirrored before (the first mirror) nothing is destructive. The syncer runs this on what
 * ZooKeeper holds; the bot's plan on the base branch: one rule, one verdict, seen before the merge.
 */
export function destructiveChangeDiagnostics(
  before: ReadonlyMap<string, MirroredEnvironment>,
  after: DesiredState,
  repo: ConfigRepo,
): Diagnostic[] {
  const servicesBefore = servicesByEnvironment(before.values());
  const servicesAfter = servicesByEnvironment(after.environments.values());
  const settings = repo.documents.get(SETTINGS_FILE);
  const at = (...path: string[]) => settings?.positionOf(path, 'key') ?? START_OF_FILE;
  const out: Diagnostic[] = [];

  const emptied = [...servicesBefore.keys()].filter((env) => !servicesAfter.has(env)).sort();
  if (!repo.guard.allowEmpty) {
    for (const env of emptied) {
      const services = [...(servicesBefore.get(env) ?? [])].sort();
      const declared = repo.environments.has(env);
      out.push(
        diagnostic(
          SETTINGS_FILE,
          declared ? at('environments', env) : at('guard', 'allowEmpty'),
          'error',
          'guard/empty-environment',
          `this commit leaves environment "${env}" with no services (it serves ${namedList(services)}${declared ? '' : '; the environment is gone from cairn.yaml'}): ` +
            'all its configuration would be removed from ZooKeeper. If that is intended, set guard.allowEmpty: true in cairn.yaml, in this commit or the next',
        ),
      );
    }
  }

  const emptiedSet = new Set(emptied);
  let total = 0;
  let removed = 0;
  for (const [key, { env, manifest }] of before) {
    total += manifest.files.size;
    if (emptiedSet.has(env)) continue;
    const kept = after.environments.get(key)?.manifest.files;
    // A snapshot kept as it is (the very manifest) removes nothing: only changed ones are walked.
    if (kept === manifest.files) continue;
    for (const path of manifest.files.keys()) if (!kept?.has(path)) removed++;
  }
  const share = repo.guard.maxRemovedShare;
  if (total > 0 && removed / total > share) {
    out.push(
      diagnostic(
        SETTINGS_FILE,
        at('guard', 'maxRemovedShare'),
        'error',
        'guard/removed-share',
        `this commit removes ${removed} of the ${total} mirrored files (${percent(removed / total)}), more than guard.maxRemovedShare allows (${percent(share)}): ` +
          'if that is intended, raise guard.maxRemovedShare in cairn.yaml, in this commit or the next',
      ),
    );
  }
  return out;
}

function servicesByEnvironment(environments: Iterable<MirroredEnvironment>): Map<string, Set<string>> {
  const services = new Map<string, Set<string>>();
  for (const { service, env } of environments) {
    const set = services.get(env) ?? new Set<string>();
    set.add(service);
    services.set(env, set);
  }
  return services;
}

function namedList(names: readonly string[]): string {
  const shown = names.slice(0, NAMED).join(', ');
  return names.length > NAMED ? `${shown} and ${names.length - NAMED} more` : shown;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
