import { isDeepStrictEqual } from 'node:util';
import { contentId } from './content-id.js';
import { type Diagnostic, diagnostic, START_OF_FILE } from './diagnostic.js';
import { forEachInSlices, runSteps, runStepsInSlices, type SliceOptions } from './event-loop-slices.js';
import { type FileFormat, formatOf } from './file-format.js';
import type { FolderTree } from './folder-tree.js';
import { type ParsedDocument, parseSource, serializeValue } from './formats/index.js';
import type {
  ConfigRollout,
  EnvironmentSettings,
  HostEntry,
  LoadBalancing,
  PolicyManifest,
  ReleaseManifest,
  ServiceManifest,
  SettingsManifest,
} from './manifests.js';
import {
  DEFAULT_GUARD_ALLOW_EMPTY,
  DEFAULT_GUARD_MAX_REMOVED_SHARE,
  DEFAULT_HISTORY_RETENTION,
  DEFAULT_HOST_WEIGHT,
  DEFAULT_LOAD_BALANCING,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_SNAPSHOT_RETENTION,
  MAX_FILE_BYTES_CEILING,
} from './manifests.js';
import { mergeOverlay } from './overlay.js';
import { deferredDocument, type ParseVerdicts } from './parse-verdicts.js';
import { unsafePathReason } from './path-safety.js';
import {
  classifyPath,
  NAME_PATTERN,
  POLICY_FILE,
  SETTINGS_FILE,
  serviceManifestPath,
  templateTarget,
} from './repo-layout.js';
import { type ServiceSources, type SortedFolder, sortRepoSourcesSteps } from './repo-sources.js';
import type { RepoTree } from './repo-tree.js';
import { renderDeadline, renderTemplateFile } from './templates/render-template.js';
import { type DrainingHosts, type TemplateContext, templateContextOf } from './templates/template-context.js';

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
  /**
   * Repository paths it was made from: the base, then the overlay if there is one. A path ending in
   * `.liquid` is a template, rendered from the service tree.
   */
  readonly sources: readonly string[];
}

export interface Environment {
  readonly name: string;
  readonly description?: string;
  readonly tracks: EnvironmentSettings['tracks'];
  readonly configRollout?: ConfigRollout;
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
  /**
   * Present when a change of the files rides the release's rollout (the service's setting, else the
   * environment's in cairn.yaml): hosts not reached yet keep the previous snapshot.
   */
  readonly configRollout?: 'with-release';
  /**
   * Present when the service's templates see the hosts of a dependency's running deploy step as
   * draining (the environment's `drainDuringDeploys`, else the service's).
   */
  readonly drainDuringDeploys?: true;
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

/** How far one commit may empty the mirror (cairn.yaml's `guard`): see core/destructive-guard.ts. */
export interface RepoGuard {
  /** Whether a commit may leave an environment that served services with none. */
  readonly allowEmpty: boolean;
  /** The share (0..1) of the mirrored files one commit may remove. */
  readonly maxRemovedShare: number;
}

/** The config repository as the rest of Cairn uses it. */
export interface ConfigRepo {
  readonly environments: ReadonlyMap<string, Environment>;
  readonly limits: RepoLimits;
  readonly guard: RepoGuard;
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
  /** The folder of a FolderTree its files were read from, which holds exactly those inputs. */
  readonly folder?: FolderTree;
  readonly settingsKey: string;
  /** The service from its own files; its templates are not rendered yet. */
  readonly service: Service | undefined;
  readonly diagnostics: readonly Diagnostic[];
  readonly documents: ReadonlyMap<string, ParsedDocument>;
  /** Effective files that a template makes, rendered once every service is loaded. */
  readonly templated: readonly TemplatedFile[];
  /** The last rendering of those files, reused while `service` and the contexts stay the same. */
  rendered?: RenderedService;
}

/** A part of an effective file: a plain file, or a template that renders it. */
interface FileSource {
  readonly path: string;
  readonly template: boolean;
}

/** An effective file whose base or overlay is a template. */
interface TemplatedFile {
  readonly env: string;
  readonly file: string;
  readonly base: FileSource;
  readonly overlay: FileSource | undefined;
}

interface RenderedService {
  /** The unrendered service it was rendered from. */
  readonly from: Service;
  /** Every context its templates saw, serialized: a dependency's changed hosts change it. */
  readonly contextsKey: string;
  readonly service: Service;
  readonly diagnostics: readonly Diagnostic[];
}

/** A base or overlay ready to become an effective file: its bytes, and its parsed value if structured. */
interface FilePart {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly document: ParsedDocument | undefined;
}

/**
 * The documents parsed from one byte array, by `<format>:<path>`: nearly always one, kept without a
 * Map of its own (a first load makes one for every file).
 */
type DocumentsOfBytes =
  | Map<string, ParsedDocument>
  | { readonly key: string; readonly document: ParsedDocument };

/**
 * What loading a repository learned that the next load can reuse, keyed by the very byte arrays it
 * read: a syncer whose git source reuses the arrays of unchanged files from commit to commit
 * re-parses only changed files and rebuilds only services with a changed file, so a one-file commit
 * costs about the same on a 10,000-file repository as on a 100-file one. Unchanged services keep
 * their Service object, which later stages (the ZooKeeper inventory) memoize on.
 */
export interface RepoModelCache {
  readonly documents: WeakMap<Uint8Array, DocumentsOfBytes>;
  /** A service folder of a FolderTree, sorted: the same folder object is not sorted again. */
  readonly folders: WeakMap<FolderTree, SortedFolder>;
  readonly services: Map<string, LoadedService>;
  /** Verdicts by content id that outlive the process: a file seen before is not parsed again. */
  readonly verdicts?: ParseVerdicts;
}

export function createRepoModelCache(verdicts?: ParseVerdicts): RepoModelCache {
  return {
    documents: new WeakMap(),
    folders: new WeakMap(),
    services: new Map(),
    ...(verdicts ? { verdicts } : {}),
  };
}

export interface LoadedConfigRepo {
  readonly repo: ConfigRepo;
  readonly diagnostics: readonly Diagnostic[];
  /** Files parsed by this load: neither the cache's byte arrays nor its verdicts knew them. */
  readonly filesParsed: number;
}

export interface LoadOptions {
  /**
   * By environment, the hosts of running deploy steps: services that opted in (`drainDuringDeploys`)
   * render their templates with those hosts draining. What the syncer publishes has none.
   */
  readonly draining?: ReadonlyMap<string, DrainingHosts>;
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
  options: LoadOptions = {},
): LoadedConfigRepo {
  return runSteps(loadConfigRepoSteps(tree, checkManifest, cache, options));
}

/**
 * `loadConfigRepo`, handing the event loop back (one turn) at a pause of the load once a slice's time
 * is spent (see loadConfigRepoSteps): the first load of 100,000 files sorts them and builds the
 * models of a thousand services, seconds that would otherwise hold a syncer's ZooKeeper session,
 * webhooks and health checks all at once.
 * Loads sharing `cache` may interleave: whatever one reuses from it is checked against its own inputs.
 */
export function loadConfigRepoInSlices(
  tree: RepoTree,
  checkManifest: ManifestChecker,
  cache?: RepoModelCache,
  options: LoadOptions & SliceOptions = {},
): Promise<LoadedConfigRepo> {
  return runStepsInSlices(loadConfigRepoSteps(tree, checkManifest, cache, options), options);
}

/**
 * The load itself, as steps: it pauses as it sorts the paths (after each service folder), after the
 * repository's settings (the first use of the schemas compiles them), and after each service it builds.
 */
function* loadConfigRepoSteps(
  tree: RepoTree,
  checkManifest: ManifestChecker,
  cache: RepoModelCache | undefined,
  options: LoadOptions,
): Generator<void, LoadedConfigRepo, void> {
  const diagnostics: Diagnostic[] = [];
  const documents = new RepoDocuments();
  const report = (
    file: string,
    at: { line: number; column: number },
    rule: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ) => diagnostics.push(diagnostic(file, at, severity, rule, message));

  // While a service loads, the documents it parses, so a later load can reuse them with it.
  let recordDocuments: [string, ParsedDocument][] | undefined;
  // Until cairn.yaml is read, files are held to the largest limit it may set.
  let sizeLimit = MAX_FILE_BYTES_CEILING;
  const sizeReported = new Set<string>();
  let filesParsed = 0;
  const countParse = () => {
    filesParsed++;
  };
  const verdicts = cache?.verdicts;
  // The files of the service being loaded, by path: its folder is walked once, rather than the tree
  // looked up from its root for each file, four times over.
  let serviceFiles: ReadonlyMap<string, Uint8Array> | undefined;
  const bytesAt = (path: string): Uint8Array => (serviceFiles?.get(path) ?? tree.get(path)) as Uint8Array;
  const remember = (path: string, document: ParsedDocument) => {
    documents.set(path, document);
    recordDocuments?.push([path, document]);
    appendAll(diagnostics, document.diagnostics);
  };
  const parse = (path: string, format: FileFormat = formatOf(path)): ParsedDocument => {
    const existing = documents.get(path);
    if (existing) return existing;
    const bytes = bytesAt(path);
    let document: ParsedDocument;
    if (bytes.length > sizeLimit) {
      // Checked before parsing: a parser's time grows with the file, and no such file is kept anyway.
      sizeReported.add(path);
      document = {
        value: undefined,
        diagnostics: [tooLarge(path, bytes.length, sizeLimit, '')],
        positionOf: () => START_OF_FILE,
      };
    } else {
      document = cachedDocument(cache, path, bytes, format, countParse);
    }
    remember(path, document);
    return document;
  };

  const manifest = <T>(kind: ManifestKind, path: string): T | undefined => {
    // A manifest whose very bytes passed its schema before: its value is known, nothing is parsed.
    const bytes = bytesAt(path);
    // A manifest over the size limit is refused before any verdict, as before any parse.
    const verdictKey =
      verdicts && !documents.has(path) && bytes.length <= sizeLimit
        ? `${kind}:${contentId(bytes)}`
        : undefined;
    const known = verdictKey ? verdicts?.get(verdictKey) : undefined;
    if (known && 'value' in known) {
      remember(path, deferredDocument(path, bytes, 'yaml', countParse, known));
      return known.value as T;
    }
    const document = parse(path, 'yaml');
    if (document.diagnostics.some((d) => d.severity === 'error')) return undefined;
    const problems = manifestProblems(kind, path, document, checkManifest);
    appendAll(diagnostics, problems);
    if (verdictKey && problems.length === 0 && document.diagnostics.length === 0 && isJson(document.value)) {
      verdicts?.set(verdictKey, { value: document.value });
    }
    return problems.some((d) => d.severity === 'error') ? undefined : (document.value as T);
  };

  // 1. Sort every path into its place in the layout.
  const { hasSettings, hasPolicy, services, unsafe, folders } = yield* sortRepoSourcesSteps(tree, cache);
  for (const { path, reason } of unsafe)
    report(path, START_OF_FILE, 'path/unsafe', `unsafe path: ${reason}; rename the file`);

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
      ...(env.configRollout ? { configRollout: env.configRollout } : {}),
    });
  }
  const limits: RepoLimits = {
    maxFileBytes: settings?.limits?.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    historyRetention: settings?.limits?.historyRetention ?? DEFAULT_HISTORY_RETENTION,
    snapshotRetention: settings?.limits?.snapshotRetention ?? DEFAULT_SNAPSHOT_RETENTION,
  };
  sizeLimit = limits.maxFileBytes;
  const guard: RepoGuard = {
    allowEmpty: settings?.guard?.allowEmpty ?? DEFAULT_GUARD_ALLOW_EMPTY,
    maxRemovedShare: settings?.guard?.maxRemovedShare ?? DEFAULT_GUARD_MAX_REMOVED_SHARE,
  };
  // Environment checks only make sense once the environments are known.
  const environmentsKnown = settings !== undefined;

  const policy = hasPolicy ? manifest<PolicyManifest>('policy', POLICY_FILE) : undefined;
  yield;

  const unknownEnvironment = (env: string) =>
    `unknown environment "${env}": cairn.yaml declares ${[...environments.keys()].map((e) => `"${e}"`).join(', ') || 'none'}`;

  // 3. Services, from their own files.
  const model = new Map<string, Service>();
  const loaded: LoadedService[] = [];
  // Everything a service's model depends on beyond its own files.
  const settingsKey = JSON.stringify([settings?.environments ?? null, limits]);
  for (const sources of [...services.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const entry = loadServiceCached(sources, folders.get(sources.name));
    if (entry.service) {
      model.set(entry.service.name, entry.service);
      if (entry.templated.length > 0) loaded.push(entry);
    }
    yield;
  }

  // 4. Templates, once the whole service tree they render from is known. No pause among them: they
  // share one render deadline, which time spent elsewhere would use up.
  const serviceTree: ReadonlyMap<string, Service> = new Map(model);
  let deadline: number | undefined;
  for (const entry of loaded) {
    const service = renderServiceCached(entry);
    model.set(service.name, service);
  }

  /**
   * Reuses the previous load of a service when none of its files and no setting changed: the same
   * folder of a FolderTree proves its files the same without looking at each.
   */
  function loadServiceCached(sources: ServiceSources, folder: FolderTree | undefined): LoadedService {
    const previous = cache?.services.get(sources.name);
    const sameFolder = folder !== undefined && previous?.folder === folder;
    if (!sameFolder && folder) serviceFiles = new Map(folder.entries());
    const inputs = sameFolder ? previous.inputs : serviceInputs(sources, bytesAt);
    if (
      previous &&
      previous.settingsKey === settingsKey &&
      (sameFolder || sameInputs(previous.inputs, inputs))
    ) {
      appendAll(diagnostics, previous.diagnostics);
      documents.addService(sources.name, previous.documents);
      serviceFiles = undefined;
      return previous;
    }
    const diagnosticsBefore = diagnostics.length;
    const recorded: [string, ParsedDocument][] = [];
    recordDocuments = recorded;
    // Walked now if the inputs were not read from it (the same folder, under other settings).
    if (folder) serviceFiles ??= new Map(folder.entries());
    const { service, templated } = loadService(sources);
    recordDocuments = undefined;
    serviceFiles = undefined;
    const entry: LoadedService = {
      inputs,
      ...(folder ? { folder } : {}),
      settingsKey,
      service,
      diagnostics: diagnostics.slice(diagnosticsBefore),
      documents: new Map(recorded),
      templated,
    };
    cache?.services.set(sources.name, entry);
    return entry;
  }

  /**
   * The service with its templates rendered. The rendering is reused while the service's own files
   * and every context its templates see are unchanged, so a commit that changes the hosts of a
   * service in `dependsOn` renders again, and one that changes anything else does not.
   */
  function renderServiceCached(entry: LoadedService): Service {
    const from = entry.service as Service;
    const contexts = new Map<string, TemplateContext>();
    for (const env of from.environments.keys()) {
      const context = templateContextOf(from, env, serviceTree, options.draining?.get(env));
      // A service of dependsOn is missing or invalid, and reported as such: render nothing from half a tree.
      if (!context) return from;
      contexts.set(env, context);
    }
    const contextsKey = JSON.stringify([...contexts]);
    const previous = entry.rendered;
    if (previous && previous.from === from && previous.contextsKey === contextsKey) {
      appendAll(diagnostics, previous.diagnostics);
      return previous.service;
    }
    const diagnosticsBefore = diagnostics.length;
    const { service, timed } = renderService(from, entry.templated, contexts);
    // A render a clock stopped may succeed next time: remember only outcomes the input decides.
    if (!timed) {
      entry.rendered = { from, contextsKey, service, diagnostics: diagnostics.slice(diagnosticsBefore) };
    }
    return service;
  }

  function renderService(
    from: Service,
    templated: readonly TemplatedFile[],
    contexts: ReadonlyMap<string, TemplateContext>,
  ): { service: Service; timed: boolean } {
    // Each template renders once for every environment that uses it; a text overlay replaces its
    // base whole, so the base does not render where there is one.
    const replaced = ({ file, overlay }: TemplatedFile) => overlay !== undefined && formatOf(file) === 'text';
    const usedBy = new Map<string, Map<string, TemplateContext>>();
    for (const entry of templated) {
      const { env, base, overlay } = entry;
      for (const source of replaced(entry) ? [overlay] : [base, overlay]) {
        if (!source?.template) continue;
        const forTemplate = usedBy.get(source.path) ?? new Map<string, TemplateContext>();
        usedBy.set(source.path, forTemplate);
        forTemplate.set(env, contexts.get(env) as TemplateContext);
      }
    }
    deadline ??= renderDeadline();
    const outputs = new Map<string, ReadonlyMap<string, string>>();
    let timed = false;
    for (const [path, forTemplate] of usedBy) {
      const rendering = renderTemplateFile(path, tree.get(path) as Uint8Array, forTemplate, {
        maxOutputBytes: limits.maxFileBytes,
        deadline,
      });
      appendAll(diagnostics, rendering.diagnostics);
      outputs.set(path, rendering.outputs);
      timed ||= rendering.timed;
    }

    const files = new Map<string, Map<string, EffectiveFile>>();
    for (const [env, forEnv] of from.files) files.set(env, new Map(forEnv));
    for (const entry of templated) {
      const { env, file, base, overlay } = entry;
      const basePart = replaced(entry)
        ? { path: base.path, bytes: EMPTY_BYTES, document: undefined }
        : partOf(base, env, file, outputs);
      const overlayPart = overlay ? partOf(overlay, env, file, outputs) : undefined;
      if (!basePart || (overlay && !overlayPart)) continue;
      const effective = effectiveFile(from.name, env, file, basePart, overlayPart);
      if (effective) files.get(env)?.set(file, effective);
    }
    for (const [env, forEnv] of files) {
      files.set(env, new Map([...forEnv].sort(([a], [b]) => (a < b ? -1 : 1))));
    }
    return { service: { ...from, files }, timed };
  }

  /** A plain file as it is, or a template's output for `env`; undefined when the render failed. */
  function partOf(
    source: FileSource,
    env: string,
    file: string,
    outputs: ReadonlyMap<string, ReadonlyMap<string, string>>,
  ): FilePart | undefined {
    if (!source.template) {
      return {
        path: source.path,
        bytes: tree.get(source.path) as Uint8Array,
        document: documents.get(source.path),
      };
    }
    const text = outputs.get(source.path)?.get(env);
    if (text === undefined) return undefined;
    const bytes = Buffer.from(text, 'utf8');
    const format = formatOf(file);
    if (format === 'text') return { path: source.path, bytes, document: undefined };
    // What the template rendered must be valid in the format its name says, like any file.
    const document = parseSource(source.path, bytes, format);
    // The first problem is enough: the output's lines are not the template's.
    const problem = document.diagnostics.find((d) => d.severity === 'error') ?? document.diagnostics[0];
    if (problem) {
      report(
        source.path,
        START_OF_FILE,
        'template/invalid-output',
        `renders invalid ${format} for ${env}, at line ${problem.line}, column ${problem.column} of the output: ${problem.message}`,
        problem.severity,
      );
    }
    return { path: source.path, bytes, document };
  }

  function loadService(sources: ServiceSources): {
    service: Service | undefined;
    templated: TemplatedFile[];
  } {
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
      return { service: undefined, templated: [] };
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
      return { service: undefined, templated: [] };
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
        ...((env.configRollout ?? environments.get(envName)?.configRollout) === 'with-release'
          ? { configRollout: 'with-release' as const }
          : {}),
        ...((env.drainDuringDeploys ?? serviceManifest?.drainDuringDeploys) === true
          ? { drainDuringDeploys: true as const }
          : {}),
      });
    }

    // Parse every config file once, and check its raw size.
    for (const path of [...sources.bases.values(), ...sources.overlays.map((o) => o.path)]) {
      parse(path);
      checkSize(path, bytesAt(path).length, '');
    }

    // The file each base makes: a template makes the file named without `.liquid`.
    const bases = new Map<string, FileSource>();
    for (const [file, path] of [...sources.bases].sort(([a], [b]) => (a < b ? -1 : 1))) {
      addSource(bases, file, path);
    }

    const overlaysByEnv = new Map<string, Map<string, FileSource>>();
    for (const overlay of [...sources.overlays].sort((a, b) => (a.path < b.path ? -1 : 1))) {
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
      const file = templateTarget(overlay.file) ?? overlay.file;
      if (!bases.has(file)) {
        report(
          overlay.path,
          START_OF_FILE,
          'overlay/no-base',
          `overlay without a base: add services/${name}/config/${file} (or a template of it, ${file}.liquid), which this file applies to (an overlay only changes a base file)`,
        );
        continue;
      }
      const forEnv = overlaysByEnv.get(overlay.env) ?? new Map<string, FileSource>();
      overlaysByEnv.set(overlay.env, forEnv);
      addSource(forEnv, overlay.file, overlay.path);
    }

    const files = new Map<string, Map<string, EffectiveFile>>();
    const templated: TemplatedFile[] = [];
    for (const envName of serviceEnvironments.keys()) {
      const forEnv = new Map<string, EffectiveFile>();
      for (const [file, base] of bases) {
        const overlay = overlaysByEnv.get(envName)?.get(file);
        if (base.template || overlay?.template) {
          templated.push({ env: envName, file, base, overlay });
          continue;
        }
        const effective = effectiveFile(
          name,
          envName,
          file,
          plainPart(base.path),
          overlay && plainPart(overlay.path),
        );
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

    if (!serviceManifest) return { service: undefined, templated };
    return {
      service: { name, manifest: serviceManifest, environments: serviceEnvironments, files, releases },
      templated,
    };
  }

  /**
   * Records `path` as the source of the file it makes. A plain file and a template that make the same
   * file in one folder are a mistake: the plain file is kept and the template reported.
   */
  function addSource(into: Map<string, FileSource>, name: string, path: string): void {
    const target = templateTarget(name);
    const file = target ?? name;
    const existing = into.get(file);
    if (existing) {
      const template = target !== undefined ? path : existing.path;
      const plain = target !== undefined ? existing.path : path;
      report(
        template,
        START_OF_FILE,
        'template/clash',
        `this template renders ${file}, which ${plain} is too: keep either the template or the plain file`,
      );
      if (target !== undefined) return;
    }
    into.set(file, { path, template: target !== undefined });
  }

  function plainPart(path: string): FilePart {
    return { path, bytes: bytesAt(path), document: documents.get(path) };
  }

  /** The effective file from its base and overlay, each already a plain file or a rendered template. */
  function effectiveFile(
    service: string,
    env: string,
    file: string,
    base: FilePart,
    overlay: FilePart | undefined,
  ): EffectiveFile | undefined {
    const format = formatOf(file);
    if (!overlay) return { service, env, path: file, format, bytes: base.bytes, sources: [base.path] };
    const sources = [base.path, overlay.path];
    if (format === 'text') return { service, env, path: file, format, bytes: overlay.bytes, sources };
    // The same base and overlay merged before, both clean: the merged text is known, nothing is parsed.
    const mergeKey = verdicts && `merge:${format}:${contentId(base.bytes)}:${contentId(overlay.bytes)}`;
    const merged = mergeKey ? verdicts?.get(mergeKey) : undefined;
    let bytes: Uint8Array;
    if (merged && typeof merged.value === 'string') {
      bytes = Buffer.from(merged.value, 'utf8');
    } else {
      if (!base.document || !overlay.document || hasError(base.document) || hasError(overlay.document)) {
        return undefined;
      }
      const text = serializeValue(format, mergeOverlay(format, base.document.value, overlay.document.value));
      const clean = base.document.diagnostics.length === 0 && overlay.document.diagnostics.length === 0;
      if (mergeKey && clean) verdicts?.set(mergeKey, { value: text });
      bytes = Buffer.from(text, 'utf8');
    }
    checkSize(overlay.path, bytes.length, ` after merging over ${base.path}`);
    return { service, env, path: file, format, bytes, sources };
  }

  function checkSize(path: string, size: number, context: string): void {
    if (size <= limits.maxFileBytes || sizeReported.has(path)) return;
    sizeReported.add(path);
    diagnostics.push(tooLarge(path, size, limits.maxFileBytes, context));
  }

  return {
    repo: {
      environments,
      limits,
      guard,
      ...(policy ? { policy } : {}),
      services: model,
      serviceNames: new Set([...services.values()].filter((sv) => sv.manifest).map((sv) => sv.name)),
      documents,
    },
    diagnostics,
    filesParsed,
  };
}

/**
 * The document of a file: the one `cache` holds for these very bytes at this path, else one known
 * to parse cleanly by its verdict (parsed only when asked), else parsed now (`onParse` counts it);
 * kept in `cache` for the next load.
 */
function cachedDocument(
  cache: RepoModelCache | undefined,
  path: string,
  bytes: Uint8Array,
  format: FileFormat,
  onParse: () => void,
): ParsedDocument {
  const key = `${format}:${path}`;
  const cached = cache?.documents.get(bytes);
  const known = cached instanceof Map ? cached.get(key) : cached?.key === key ? cached.document : undefined;
  if (known) return known;
  const verdicts = cache?.verdicts;
  const verdictKey = `${format}:${contentId(bytes)}`;
  let document: ParsedDocument;
  if (verdicts?.get(verdictKey)) {
    document = deferredDocument(path, bytes, format, onParse);
  } else {
    onParse();
    document = parseSource(path, bytes, format);
    if (document.diagnostics.length === 0) verdicts?.set(verdictKey, {});
  }
  if (cache) {
    if (cached === undefined) cache.documents.set(bytes, { key, document });
    else if (cached instanceof Map) cached.set(key, document);
    else
      cache.documents.set(
        bytes,
        new Map([
          [cached.key, cached.document],
          [key, document],
        ]),
      );
  }
  return document;
}

/**
 * Parses the config files among `paths` (bases and overlays: nearly every file of a repository)
 * that `cache` knows neither by their bytes nor by a verdict, in slices of the event loop, so that
 * the `loadConfigRepo` that follows with `cache` finds them parsed. A first load of 100,000 files
 * is minutes of parsing: in one go it would hold the event loop, and the syncer's ZooKeeper session
 * with it, for all that time. Resolves with the number of files parsed.
 */
export async function parseConfigFilesAhead(
  tree: RepoTree,
  paths: Iterable<string>,
  cache: RepoModelCache,
  options?: SliceOptions,
): Promise<number> {
  let parsed = 0;
  const onParse = () => {
    parsed++;
  };
  await forEachInSlices(
    paths,
    (path) => {
      const bytes = tree.get(path);
      // Too large for any limit: loadConfigRepo refuses it unparsed.
      if (!bytes || bytes.length > MAX_FILE_BYTES_CEILING) return;
      const format = formatOf(path);
      // Known by a verdict: nothing to parse, and loadConfigRepo counts a parse it would ask for.
      // Looked up first: on a restart every file is known, and the checks of the path cost more.
      if (cache.verdicts?.get(`${format}:${contentId(bytes)}`)) return;
      if (unsafePathReason(path)) return;
      const place = classifyPath(path);
      if (place.kind !== 'config' && place.kind !== 'overlay') return;
      cachedDocument(cache, path, bytes, format, onParse);
    },
    options,
  );
  return parsed;
}

/**
 * Every parsed file of a load by repository path: those parsed or looked up by this load, and the
 * documents of each service reused whole from the model cache, kept as that service's map rather
 * than copied (a one-file commit to a repository of 100,000 files would otherwise copy them all).
 */
class RepoDocuments implements ReadonlyMap<string, ParsedDocument> {
  private readonly own = new Map<string, ParsedDocument>();
  private readonly byService = new Map<string, ReadonlyMap<string, ParsedDocument>>();

  set(path: string, document: ParsedDocument): void {
    this.own.set(path, document);
  }

  /** The documents of a service loaded before, all under `services/<name>/`. */
  addService(name: string, documents: ReadonlyMap<string, ParsedDocument>): void {
    this.byService.set(name, documents);
  }

  get(path: string): ParsedDocument | undefined {
    const own = this.own.get(path);
    if (own || !path.startsWith(SERVICES_PREFIX)) return own;
    const end = path.indexOf('/', SERVICES_PREFIX.length);
    return end < 0 ? undefined : this.byService.get(path.slice(SERVICES_PREFIX.length, end))?.get(path);
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  get size(): number {
    let size = this.own.size;
    for (const documents of this.byService.values()) size += documents.size;
    return size;
  }

  /** Every document in one map, for a caller that walks them all (no check on a sync's path does). */
  private all(): Map<string, ParsedDocument> {
    const all = new Map(this.own);
    for (const documents of this.byService.values())
      for (const [path, document] of documents) all.set(path, document);
    return all;
  }

  entries(): MapIterator<[string, ParsedDocument]> {
    return this.all().entries();
  }

  keys(): MapIterator<string> {
    return this.all().keys();
  }

  values(): MapIterator<ParsedDocument> {
    return this.all().values();
  }

  [Symbol.iterator](): MapIterator<[string, ParsedDocument]> {
    return this.entries();
  }

  forEach(
    callback: (document: ParsedDocument, path: string, map: ReadonlyMap<string, ParsedDocument>) => void,
  ): void {
    for (const [path, document] of this.all()) callback(document, path, this);
  }
}

const SERVICES_PREFIX = 'services/';

function tooLarge(path: string, size: number, limit: number, context: string): Diagnostic {
  return diagnostic(
    path,
    START_OF_FILE,
    'error',
    'file/too-large',
    `file is ${size} bytes${context}, over the limit of ${limit} (limits.maxFileBytes in cairn.yaml): ` +
      'each file becomes one ZooKeeper node, and ZooKeeper refuses nodes and requests over 1 MiB (jute.maxbuffer); split the file',
  );
}

/** Appends one by one: spreading a hostile file's many diagnostics as arguments overflows the stack. */
function appendAll<T>(into: T[], items: readonly T[]): void {
  for (const item of items) into.push(item);
}

/** Whether `value` survives JSON unchanged: only such a value is kept in a verdict. */
function isJson(value: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value);
  } catch {
    // Not serialisable (a cycle, a BigInt): simply not kept.
    return false;
  }
}

function hasError(document: ParsedDocument): boolean {
  return document.value === undefined || document.diagnostics.some((d) => d.severity === 'error');
}

function withHostDefaults(entry: HostEntry): Host {
  return { host: entry.host, weight: entry.weight ?? DEFAULT_HOST_WEIGHT, labels: entry.labels ?? {} };
}

function serviceInputs(
  sources: ServiceSources,
  bytesAt: (path: string) => Uint8Array | undefined,
): (string | Uint8Array)[] {
  const paths = [
    sources.manifest ?? '',
    ...sources.bases.values(),
    ...sources.overlays.map((o) => o.path),
    ...sources.releases.map((r) => r.path),
    ...sources.stray,
  ];
  return [...paths, ...paths.map((path) => bytesAt(path) ?? EMPTY_BYTES)];
}

const EMPTY_BYTES = new Uint8Array(0);

function sameInputs(a: readonly (string | Uint8Array)[], b: readonly (string | Uint8Array)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
