import { type Diagnostic, diagnostic, START_OF_FILE } from './diagnostic.js';
import { type FileFormat, formatOf } from './file-format.js';
import { type ParsedDocument, parseSource, serializeValue } from './formats/index.js';
import type {
  EnvironmentSettings,
  HostEntry,
  LoadBalancing,
  PolicyManifest,
  ReleaseManifest,
  ServiceManifest,
  SettingsManifest,
} from './manifests.js';
import {
  DEFAULT_HISTORY_RETENTION,
  DEFAULT_HOST_WEIGHT,
  DEFAULT_LOAD_BALANCING,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SNAPSHOT_RETENTION,
} from './manifests.js';
import { mergeOverlay } from './overlay.js';
import { unsafePathReason } from './path-safety.js';
import {
  classifyPath,
  NAME_PATTERN,
  POLICY_FILE,
  type RepoPath,
  SETTINGS_FILE,
  serviceManifestPath,
} from './repo-layout.js';
import type { RepoTree } from './repo-tree.js';

/** The four kinds of manifest, each with its JSON Schema. */
export type ManifestKind = 'settings' | 'policy' | 'service' | 'release';

/**
 * Checks a parsed manifest against its schema and returns what is wrong. Injected so the model does
 * not depend on how schemas are checked; a manifest with errors is left out of the model.
 */
export type ManifestChecker = (kind: ManifestKind, file: string, document: ParsedDocument) => Diagnostic[];

/** One config file as a service in one environment sees it, after its overlay was applied. */
export interface EffectiveFile {
  readonly service: string;
  readonly env: string;
  /** Path within the service's config folder, e.g. `rules/boost.yaml`. */
  readonly path: string;
  readonly format: FileFormat;
  readonly bytes: Uint8Array;
  /** Repository paths it was made from: the base, then the overlay if there is one. */
  readonly sources: readonly string[];
}

export interface Environment {
  readonly name: string;
  readonly description?: string;
  readonly tracks: EnvironmentSettings['tracks'];
}

export interface Host {
  readonly host: string;
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ServiceEnvironment {
  readonly name: string;
  readonly loadBalancing: LoadBalancing;
  /** The command the agent runs after writing changed files (the environment's, else the service's). */
  readonly reload?: string;
  /** The command the agent runs before `reload`; failing, it rejects the commit on that host. */
  readonly check?: string;
  readonly hosts: readonly Host[];
}

export interface Release {
  readonly service: string;
  readonly env: string;
  readonly path: string;
  readonly manifest: ReleaseManifest;
}

export interface Service {
  readonly name: string;
  readonly manifest: ServiceManifest;
  readonly environments: ReadonlyMap<string, ServiceEnvironment>;
  /** Effective files by environment, then by path within the config folder. */
  readonly files: ReadonlyMap<string, ReadonlyMap<string, EffectiveFile>>;
  readonly releases: ReadonlyMap<string, Release>;
}

export interface RepoLimits {
  readonly maxFileBytes: number;
  readonly historyRetention: number;
  /** How many of the last mirrored commits keep their snapshots in ZooKeeper. */
  readonly snapshotRetention: number;
}

/** The config repository as the rest of Cairn uses it. */
export interface ConfigRepo {
  readonly environments: ReadonlyMap<string, Environment>;
  readonly limits: RepoLimits;
  readonly policy?: PolicyManifest;
  readonly services: ReadonlyMap<string, Service>;
  /** Every service that has a service.yaml, valid or not: the names other files may refer to. */
  readonly serviceNames: ReadonlySet<string>;
  /** Every parsed file by repository path, so later checks can point at a line. */
  readonly documents: ReadonlyMap<string, ParsedDocument>;
}

/**
 * What is wrong with a manifest whose syntax is fine: it is empty, or not what its schema says.
 * Shared by the model and by whoever reads a single manifest (the bot reads policy.yaml alone).
 */
export function manifestProblems(
  kind: ManifestKind,
  path: string,
  document: ParsedDocument,
  checkManifest: ManifestChecker,
): Diagnostic[] {
  if (document.value === null || document.value === undefined) {
    return [
      diagnostic(
        path,
        START_OF_FILE,
        'error',
        'file/empty',
        `empty ${kind} manifest: it must at least declare \`apiVersion: cairn/v1\``,
      ),
    ];
  }
  return checkManifest(kind, path, document);
}

/** One service as loaded from a given set of files, and what loading it reported. */
interface LoadedService {
  /** Every input of the service in a fixed order: paths, then the byte arrays themselves. */
  readonly inputs: readonly (string | Uint8Array)[];
  readonly settingsKey: string;
  readonly service: Service | undefined;
  readonly diagnostics: readonly Diagnostic[];
  readonly documents: readonly (readonly [string, ParsedDocument])[];
}

/**
 * What loading a repository learned that the next load can reuse, keyed by the very byte arrays it
 * read: a syncer whose git source reuses the arrays of unchanged files from commit to commit
 * re-parses only changed files and rebuilds only services with a changed file, so a one-file commit
 * costs about the same on a 10,000-file repository as on a 100-file one. Unchanged services keep
 * their Service object, which later stages (the ZooKeeper inventory) memoize on.
 */
export interface RepoModelCache {
  readonly documents: WeakMap<Uint8Array, Map<string, ParsedDocument>>;
  readonly places: Map<string, RepoPath | { readonly kind: 'unsafe'; readonly reason: string }>;
  readonly services: Map<string, LoadedService>;
}

export function createRepoModelCache(): RepoModelCache {
  return { documents: new WeakMap(), places: new Map(), services: new Map() };
}

/** Paths seen by one cache before it forgets them all: far above any real repository. */
const MAX_CACHED_PLACES = 200_000;

export interface LoadedConfigRepo {
  readonly repo: ConfigRepo;
  readonly diagnostics: readonly Diagnostic[];
}

interface ServiceSources {
  readonly name: string;
  manifest?: string;
  readonly bases: Map<string, string>;
  readonly overlays: { env: string; file: string; path: string }[];
  readonly releases: { env: string; path: string }[];
  readonly stray: string[];
}

/**
 * Turns a repository tree into the model, reporting every structural problem on the way: unsafe
 * paths, parse errors, manifests that fail their schema, unknown environments, overlays without a
 * base, files too large for ZooKeeper. Never throws on bad input; what cannot be modelled is left out.
 */
export function loadConfigRepo(
  tree: RepoTree,
  checkManifest: ManifestChecker,
  cache?: RepoModelCache,
): LoadedConfigRepo {
  const diagnostics: Diagnostic[] = [];
  const documents = new Map<string, ParsedDocument>();
  const report = (
    file: string,
    at: { line: number; column: number },
    rule: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ) => diagnostics.push(diagnostic(file, at, severity, rule, message));

  // While a service loads, the documents it parses, so a later load can reuse them with it.
  let recordDocuments: [string, ParsedDocument][] | undefined;
  const parse = (path: string, format: FileFormat = formatOf(path)): ParsedDocument => {
    const existing = documents.get(path);
    if (existing) return existing;
    const bytes = tree.get(path) as Uint8Array;
    const key = `${format}:${path}`;
    let cached = cache?.documents.get(bytes);
    let document = cached?.get(key);
    if (!document) {
      document = parseSource(path, bytes, format);
      if (cache) {
        cached ??= new Map();
        cache.documents.set(bytes, cached);
        cached.set(key, document);
      }
    }
    documents.set(path, document);
    recordDocuments?.push([path, document]);
    diagnostics.push(...document.diagnostics);
    return document;
  };

  const manifest = <T>(kind: ManifestKind, path: string): T | undefined => {
    const document = parse(path, 'yaml');
    if (document.diagnostics.some((d) => d.severity === 'error')) return undefined;
    const problems = manifestProblems(kind, path, document, checkManifest);
    diagnostics.push(...problems);
    return problems.some((d) => d.severity === 'error') ? undefined : (document.value as T);
  };

  // 1. Sort every path into its place in the layout.
  const services = new Map<string, ServiceSources>();
  const sourcesOf = (name: string): ServiceSources => {
    let sources = services.get(name);
    if (!sources) {
      sources = { name, bases: new Map(), overlays: [], releases: [], stray: [] };
      services.set(name, sources);
    }
    return sources;
  };
  let hasSettings = false;
  let hasPolicy = false;
  if (cache && cache.places.size > MAX_CACHED_PLACES) cache.places.clear();
  for (const path of tree.keys()) {
    let place = cache?.places.get(path);
    if (!place) {
      const unsafe = unsafePathReason(path);
      place = unsafe ? { kind: 'unsafe', reason: unsafe } : classifyPath(path);
      cache?.places.set(path, place);
    }
    if (place.kind === 'unsafe') {
      report(path, START_OF_FILE, 'path/unsafe', `unsafe path: ${place.reason}; rename the file`);
      continue;
    }
    switch (place.kind) {
      case 'settings':
        hasSettings = true;
        break;
      case 'policy':
        hasPolicy = true;
        break;
      case 'service':
        sourcesOf(place.service).manifest = path;
        break;
      case 'config':
        sourcesOf(place.service).bases.set(place.file, path);
        break;
      case 'overlay':
        sourcesOf(place.service).overlays.push({ env: place.env, file: place.file, path });
        break;
      case 'release':
        sourcesOf(place.service).releases.push({ env: place.env, path });
        break;
      case 'stray':
        sourcesOf(place.service).stray.push(path);
        break;
      case 'other':
        break;
    }
  }

  // 2. Repository settings: without them no environment is known, so no effective file can be made.
  let settings: SettingsManifest | undefined;
  if (hasSettings) settings = manifest<SettingsManifest>('settings', SETTINGS_FILE);
  else {
    report(
      SETTINGS_FILE,
      START_OF_FILE,
      'repo/missing-settings',
      'cairn.yaml is missing: every config repository needs one at its root, declaring `apiVersion: cairn/v1` and its environments',
    );
  }
  const environments = new Map<string, Environment>();
  for (const [name, env] of Object.entries(settings?.environments ?? {})) {
    environments.set(name, {
      name,
      ...(env.description ? { description: env.description } : {}),
      tracks: env.tracks,
    });
  }
  const limits: RepoLimits = {
    maxFileBytes: settings?.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    historyRetention: settings?.limits?.historyRetention ?? DEFAULT_HISTORY_RETENTION,
    snapshotRetention: settings?.limits?.snapshotRetention ?? DEFAULT_SNAPSHOT_RETENTION,
  };
  // Environment checks only make sense once the environments are known.
  const environmentsKnown = settings !== undefined;

  const policy = hasPolicy ? manifest<PolicyManifest>('policy', POLICY_FILE) : undefined;

  const unknownEnvironment = (env: string) =>
    `unknown environment "${env}": cairn.yaml declares ${[...environments.keys()].map((e) => `"${e}"`).join(', ') || 'none'}`;
  const sizeReported = new Set<string>();

  // 3. Services.
  const model = new Map<string, Service>();
  // Everything a service's model depends on beyond its own files.
  const settingsKey = JSON.stringify([settings?.environments ?? null, limits]);
  for (const sources of [...services.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const service = loadServiceCached(sources);
    if (service) model.set(service.name, service);
  }

  /** Reuses the previous load of a service when none of its files and no setting changed. */
  function loadServiceCached(sources: ServiceSources): Service | undefined {
    const inputs = serviceInputs(sources, tree);
    const previous = cache?.services.get(sources.name);
    if (previous && previous.settingsKey === settingsKey && sameInputs(previous.inputs, inputs)) {
      diagnostics.push(...previous.diagnostics);
      for (const [path, document] of previous.documents) documents.set(path, document);
      return previous.service;
    }
    const diagnosticsBefore = diagnostics.length;
    const recorded: [string, ParsedDocument][] = [];
    recordDocuments = recorded;
    const service = loadService(sources);
    recordDocuments = undefined;
    cache?.services.set(sources.name, {
      inputs,
      settingsKey,
      service,
      diagnostics: diagnostics.slice(diagnosticsBefore),
      documents: recorded,
    });
    return service;
  }

  function loadService(sources: ServiceSources): Service | undefined {
    const { name } = sources;
    const anyFile =
      sources.manifest ??
      [...sources.bases.values()][0] ??
      sources.overlays[0]?.path ??
      sources.releases[0]?.path ??
      sources.stray[0] ??
      serviceManifestPath(name);
    if (!NAME_PATTERN.test(name)) {
      report(
        anyFile,
        START_OF_FILE,
        'service/invalid-name',
        `service name "${name}" must be lower-case letters, digits and dashes, starting with a letter (at most 63 characters)`,
      );
      return undefined;
    }
    for (const path of sources.stray) {
      report(
        path,
        START_OF_FILE,
        'layout/stray-file',
        `not part of the repository layout (expected services/${name}/service.yaml, config/… or releases/<env>.yaml): it is ignored`,
        'warning',
      );
    }
    if (!sources.manifest) {
      report(
        anyFile,
        START_OF_FILE,
        'service/missing-manifest',
        `service "${name}" has files but no ${serviceManifestPath(name)}: add one naming its owners and environments`,
      );
      return undefined;
    }
    const serviceManifest = manifest<ServiceManifest>('service', sources.manifest);
    const manifestDocument = documents.get(sources.manifest) as ParsedDocument;

    const serviceEnvironments = new Map<string, ServiceEnvironment>();
    for (const [envName, env] of Object.entries(serviceManifest?.environments ?? {})) {
      if (environmentsKnown && !environments.has(envName)) {
        report(
          sources.manifest,
          manifestDocument.positionOf(['environments', envName], 'key'),
          'env/unknown',
          unknownEnvironment(envName),
        );
        continue;
      }
      serviceEnvironments.set(envName, {
        name: envName,
        loadBalancing: env.loadBalancing ?? DEFAULT_LOAD_BALANCING,
        ...(env.reload !== undefined || serviceManifest?.reload !== undefined
          ? { reload: env.reload ?? serviceManifest?.reload }
          : {}),
        ...(env.check !== undefined || serviceManifest?.check !== undefined
          ? { check: env.check ?? serviceManifest?.check }
          : {}),
        hosts: env.hosts.map(withHostDefaults),
      });
    }

    // Parse every config file once, and check its raw size.
    for (const path of [...sources.bases.values(), ...sources.overlays.map((o) => o.path)]) {
      parse(path);
      checkSize(path, (tree.get(path) as Uint8Array).length, '');
    }

    const overlaysByEnv = new Map<string, Map<string, string>>();
    for (const overlay of sources.overlays) {
      if (environmentsKnown && !environments.has(overlay.env)) {
        report(overlay.path, START_OF_FILE, 'env/unknown', unknownEnvironment(overlay.env));
        continue;
      }
      if (serviceManifest && !serviceEnvironments.has(overlay.env) && environments.has(overlay.env)) {
        report(
          overlay.path,
          START_OF_FILE,
          'env/not-deployed',
          `overlay for environment "${overlay.env}", where service "${name}" does not run (not under environments in ${sources.manifest}): it is ignored`,
          'warning',
        );
      }
      if (!sources.bases.has(overlay.file)) {
        report(
          overlay.path,
          START_OF_FILE,
          'overlay/no-base',
          `overlay without a base: add services/${name}/config/${overlay.file}, which this file is merged over (an overlay only changes a base file)`,
        );
        continue;
      }
      const forEnv = overlaysByEnv.get(overlay.env) ?? new Map<string, string>();
      overlaysByEnv.set(overlay.env, forEnv);
      forEnv.set(overlay.file, overlay.path);
    }

    const files = new Map<string, Map<string, EffectiveFile>>();
    for (const envName of serviceEnvironments.keys()) {
      const forEnv = new Map<string, EffectiveFile>();
      for (const [file, basePath] of [...sources.bases].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const effective = effectiveFile(name, envName, file, basePath, overlaysByEnv.get(envName)?.get(file));
        if (effective) forEnv.set(file, effective);
      }
      files.set(envName, forEnv);
    }

    const releases = new Map<string, Release>();
    for (const { env, path } of sources.releases) {
      const release = manifest<ReleaseManifest>('release', path);
      if (environmentsKnown && !environments.has(env)) {
        report(path, START_OF_FILE, 'env/unknown', unknownEnvironment(env));
        continue;
      }
      if (serviceManifest && !serviceEnvironments.has(env)) {
        report(
          path,
          START_OF_FILE,
          'env/not-deployed',
          `release for environment "${env}", where service "${name}" does not run: add "${env}" with its hosts under environments in ${sources.manifest}`,
        );
        continue;
      }
      if (release) releases.set(env, { service: name, env, path, manifest: release });
    }

    if (!serviceManifest) return undefined;
    return { name, manifest: serviceManifest, environments: serviceEnvironments, files, releases };
  }

  function effectiveFile(
    service: string,
    env: string,
    file: string,
    basePath: string,
    overlayPath: string | undefined,
  ): EffectiveFile | undefined {
    const format = formatOf(file);
    const baseBytes = tree.get(basePath) as Uint8Array;
    if (!overlayPath) return { service, env, path: file, format, bytes: baseBytes, sources: [basePath] };
    const overlayBytes = tree.get(overlayPath) as Uint8Array;
    if (format === 'text')
      return { service, env, path: file, format, bytes: overlayBytes, sources: [basePath, overlayPath] };
    const base = documents.get(basePath) as ParsedDocument;
    const overlay = documents.get(overlayPath) as ParsedDocument;
    if (hasError(base) || hasError(overlay)) return undefined;
    const bytes = Buffer.from(
      serializeValue(format, mergeOverlay(format, base.value, overlay.value)),
      'utf8',
    );
    checkSize(overlayPath, bytes.length, ` after merging over ${basePath}`);
    return { service, env, path: file, format, bytes, sources: [basePath, overlayPath] };
  }

  function checkSize(path: string, size: number, context: string): void {
    if (size <= limits.maxFileBytes || sizeReported.has(path)) return;
    sizeReported.add(path);
    report(
      path,
      START_OF_FILE,
      'file/too-large',
      `file is ${size} bytes${context}, over the limit of ${limits.maxFileBytes} (limits.maxFileBytes in cairn.yaml): ` +
        'each file becomes one ZooKeeper node, and ZooKeeper refuses nodes and requests over 1 MiB (jute.maxbuffer); split the file',
    );
  }

  return {
    repo: {
      environments,
      limits,
      ...(policy ? { policy } : {}),
      services: model,
      serviceNames: new Set([...services.values()].filter((sv) => sv.manifest).map((sv) => sv.name)),
      documents,
    },
    diagnostics,
  };
}

function hasError(document: ParsedDocument): boolean {
  return document.value === undefined || document.diagnostics.some((d) => d.severity === 'error');
}

function withHostDefaults(entry: HostEntry): Host {
  return { host: entry.host, weight: entry.weight ?? DEFAULT_HOST_WEIGHT, labels: entry.labels ?? {} };
}

function serviceInputs(sources: ServiceSources, tree: RepoTree): (string | Uint8Array)[] {
  const paths = [
    sources.manifest ?? '',
    ...sources.bases.values(),
    ...sources.overlays.map((o) => o.path),
    ...sources.releases.map((r) => r.path),
    ...sources.stray,
  ];
  return [...paths, ...paths.map((path) => tree.get(path) ?? EMPTY_BYTES)];
}

const EMPTY_BYTES = new Uint8Array(0);

function sameInputs(a: readonly (string | Uint8Array)[], b: readonly (string | Uint8Array)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
