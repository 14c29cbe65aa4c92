import picomatch from 'picomatch';
import {
  type ConfigRepo,
  type Diagnostic,
  diagnostic,
  type ParsedDocument,
  POLICY_FILE,
  type Release,
  type Service,
  START_OF_FILE,
  serviceManifestPath,
} from '../core/index.js';

/**
 * Checks that need the whole model rather than one file: references between files and whether what a
 * manifest asks for can actually happen with the hosts it has. `paths` (every path of the tree) is
 * walked again for each policy glob, and only until a path matches: pass the tree's keys as they
 * come rather than a copy of them.
 */
export function checkSemantics(repo: ConfigRepo, paths: Iterable<string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const service of repo.services.values()) {
    const own = ownFindingsOf(repo, service);
    appendAll(out, own.hosts);
    // Names other services: looked at again in every load, as a service may come or go.
    checkDependencies(repo, service, out);
    appendAll(out, own.rest);
  }
  if (repo.policy) checkPolicy(repo, paths, out);
  return out;
}

/** What the checks that look at one service alone found, in the order they run. */
interface OwnFindings {
  readonly hosts: readonly Diagnostic[];
  readonly rest: readonly Diagnostic[];
}

/**
 * By Service object: a model cache keeps a service's object, and its documents, while none of its
 * files and no setting changed, so a one-file commit checks one service of a thousand again.
 */
const ownFindings = new WeakMap<Service, OwnFindings>();

function ownFindingsOf(repo: ConfigRepo, service: Service): OwnFindings {
  const known = ownFindings.get(service);
  if (known) return known;
  const hosts: Diagnostic[] = [];
  checkHosts(repo, service, hosts);
  const rest: Diagnostic[] = [];
  checkConfigRollout(repo, service, rest);
  checkDrainDuringDeploys(repo, service, rest);
  for (const release of service.releases.values()) checkReleaseStrategy(repo, service, release, rest);
  const findings = { hosts, rest };
  ownFindings.set(service, findings);
  return findings;
}

function appendAll(into: Diagnostic[], items: readonly Diagnostic[]): void {
  for (const item of items) into.push(item);
}

function documentOf(repo: ConfigRepo, path: string): ParsedDocument | undefined {
  return repo.documents.get(path);
}

function checkHosts(repo: ConfigRepo, service: Service, out: Diagnostic[]): void {
  const file = serviceManifestPath(service.name);
  const document = documentOf(repo, file);
  for (const [envName, env] of Object.entries(service.manifest.environments)) {
    const firstIndex = new Map<string, number>();
    env.hosts.forEach((entry, index) => {
      const key = entry.host.toLowerCase();
      const first = firstIndex.get(key);
      if (first === undefined) {
        firstIndex.set(key, index);
        return;
      }
      out.push(
        diagnostic(
          file,
          document?.positionOf(['environments', envName, 'hosts', index, 'host']) ?? START_OF_FILE,
          'error',
          'service/duplicate-host',
          `host "${entry.host}" is listed twice in environment "${envName}" (also entry ${first + 1}): it would receive every deploy batch twice`,
        ),
      );
    });
  }
}

/** Configuration can only ride a release that exists: without one, a change goes live at once. */
function checkConfigRollout(repo: ConfigRepo, service: Service, out: Diagnostic[]): void {
  const file = serviceManifestPath(service.name);
  for (const [env, environment] of service.environments) {
    if (environment.configRollout !== 'with-release' || service.releases.has(env)) continue;
    const own = service.manifest.environments[env]?.configRollout !== undefined;
    out.push(
      diagnostic(
        file,
        documentOf(repo, file)?.positionOf(['environments', env, ...(own ? ['configRollout'] : [])]) ??
          START_OF_FILE,
        'warning',
        'release/config-without-release',
        `configuration of "${service.name}" in "${env}" rides the release (configRollout: with-release${own ? '' : ', from cairn.yaml'}) but there is no services/${service.name}/releases/${env}.yaml: a change goes live on every host at once; add the release manifest, or say configRollout: immediate`,
      ),
    );
  }
}

/** Draining marks hosts of the services in `dependsOn`: without any, the setting does nothing. */
function checkDrainDuringDeploys(repo: ConfigRepo, service: Service, out: Diagnostic[]): void {
  const { manifest } = service;
  if ((manifest.dependsOn ?? []).length > 0) return;
  // Where the setting is said: once at the service's level, and at each environment that says it.
  const places: (readonly string[])[] = [];
  if (
    manifest.drainDuringDeploys === true &&
    [...service.environments.values()].some((e) => e.drainDuringDeploys)
  )
    places.push(['drainDuringDeploys']);
  for (const [env, environment] of Object.entries(manifest.environments))
    if (environment.drainDuringDeploys === true && service.environments.has(env))
      places.push(['environments', env, 'drainDuringDeploys']);
  const file = serviceManifestPath(service.name);
  for (const at of places)
    out.push(
      diagnostic(
        file,
        documentOf(repo, file)?.positionOf([...at]) ?? START_OF_FILE,
        'warning',
        'service/drain-without-dependencies',
        `"${service.name}" says drainDuringDeploys: true but has no dependsOn: it renders no upstream whose hosts could drain; name the services its templates route to in dependsOn, or remove the setting`,
      ),
    );
}

function checkDependencies(repo: ConfigRepo, service: Service, out: Diagnostic[]): void {
  const dependsOn = service.manifest.dependsOn ?? [];
  const file = serviceManifestPath(service.name);
  dependsOn.forEach((name, index) => {
    // A service whose manifest has errors is not in the model but still exists: refer to it freely.
    if (repo.serviceNames.has(name)) return;
    out.push(
      diagnostic(
        file,
        documentOf(repo, file)?.positionOf(['dependsOn', index]) ?? START_OF_FILE,
        'error',
        'service/unknown',
        `unknown service "${name}": no services/${name}/service.yaml in this repository`,
      ),
    );
  });
}

function checkReleaseStrategy(repo: ConfigRepo, service: Service, release: Release, out: Diagnostic[]): void {
  const env = service.environments.get(release.env);
  if (!env) return;
  const document = documentOf(repo, release.path);
  const at = (...path: (string | number)[]) => document?.positionOf(path) ?? START_OF_FILE;
  const report = (path: (string | number)[], severity: 'error' | 'warning', message: string) =>
    out.push(diagnostic(release.path, at(...path), severity, 'release/unsatisfiable', message));
  const hosts = env.hosts.length;
  const { strategy } = release.manifest;
  const where = `environment "${release.env}" of ${service.name}`;

  if (hosts === 0) {
    report(
      ['strategy'],
      'error',
      `${where} has no hosts to deploy to: add hosts in ${serviceManifestPath(service.name)} or remove this release`,
    );
    return;
  }
  if (strategy.canary && !strategy.rollback && strategy.canary.hosts >= hosts) {
    report(
      ['strategy', 'canary', 'hosts'],
      'error',
      `canary of ${strategy.canary.hosts} host(s) needs more hosts than the ${hosts} in ${where}: at least one host must remain for the batches after the canary`,
    );
  }
  if (typeof strategy.batchSize === 'number' && strategy.batchSize > hosts) {
    report(
      ['strategy', 'batchSize'],
      'warning',
      `batch size ${strategy.batchSize} is larger than the ${hosts} host(s) in ${where}: everything deploys in one batch`,
    );
  }
  const budget = strategy.maxFailedHosts ?? 0;
  if (budget >= hosts) {
    report(
      ['strategy', 'maxFailedHosts'],
      'warning',
      `a failure budget of ${budget} with ${hosts} host(s) in ${where} never halts: every host could fail`,
    );
  }
}

function checkPolicy(repo: ConfigRepo, paths: Iterable<string>, out: Diagnostic[]): void {
  const policy = repo.policy;
  if (!policy) return;
  const document = documentOf(repo, POLICY_FILE);
  const seen = new Map<string, number>();
  policy.rules.forEach((rule, index) => {
    const first = seen.get(rule.name);
    if (first !== undefined) {
      out.push(
        diagnostic(
          POLICY_FILE,
          document?.positionOf(['rules', index, 'name']) ?? START_OF_FILE,
          'error',
          'policy/duplicate-rule',
          `rule name "${rule.name}" is used twice (also rule ${first + 1}): approval records name rules, so names must be unique`,
        ),
      );
    } else seen.set(rule.name, index);
    rule.paths.forEach((glob, globIndex) => {
      const matches = picomatch(glob, { dot: true });
      if (someOf(paths, matches)) return;
      out.push(
        diagnostic(
          POLICY_FILE,
          document?.positionOf(['rules', index, 'paths', globIndex]) ?? START_OF_FILE,
          'warning',
          'policy/unmatched-glob',
          `path pattern "${glob}" of rule "${rule.name}" matches no file in the repository: check it for typos`,
        ),
      );
    });
  });
  checkSteeringRules(repo, paths, out);
}

/**
 * policy.yaml's `deployments` rules: unique names (a refusal names its rule), and globs that match a
 * release manifest, since a rule covers only deployments of release manifests it matches.
 */
function checkSteeringRules(repo: ConfigRepo, paths: Iterable<string>, out: Diagnostic[]): void {
  const rules = repo.policy?.deployments;
  if (!rules) return;
  const document = documentOf(repo, POLICY_FILE);
  const releases: string[] = [];
  for (const path of paths) if (/^services\/[^/]+\/releases\/[^/]+\.yaml$/.test(path)) releases.push(path);
  const seen = new Map<string, number>();
  rules.forEach((rule, index) => {
    const first = seen.get(rule.name);
    if (first !== undefined)
      out.push(
        diagnostic(
          POLICY_FILE,
          document?.positionOf(['deployments', index, 'name']) ?? START_OF_FILE,
          'error',
          'policy/duplicate-rule',
          `deployments rule name "${rule.name}" is used twice (also deployments rule ${first + 1}): a refused action names its rule, so names must be unique`,
        ),
      );
    else seen.set(rule.name, index);
    rule.paths.forEach((glob, globIndex) => {
      const matches = picomatch(glob, { dot: true });
      if (releases.some((path) => matches(path))) return;
      out.push(
        diagnostic(
          POLICY_FILE,
          document?.positionOf(['deployments', index, 'paths', globIndex]) ?? START_OF_FILE,
          'warning',
          'policy/unmatched-glob',
          `path pattern "${glob}" of deployments rule "${rule.name}" matches no release manifest (services/<service>/releases/<env>.yaml): check it for typos`,
        ),
      );
    });
  });
}

/** Whether any of `items` matches, looking no further than the first that does. */
function someOf(items: Iterable<string>, matches: (item: string) => boolean): boolean {
  for (const item of items) if (matches(item)) return true;
  return false;
}
