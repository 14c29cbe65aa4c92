/**
 * The layout of a config repository: the one place that knows which path means what.
 *
 *   cairn.yaml                               repo settings
 *   policy.yaml                              approval rules
 *   services/<service>/service.yaml          the service-tree node
 *   services/<service>/config/<file>         base config for every environment
 *   services/<service>/config/@<env>/<file>  an environment's overlay of a base file
 *   services/<service>/releases/<env>.yaml   release manifest
 */
export const SETTINGS_FILE = 'cairn.yaml';
export const POLICY_FILE = 'policy.yaml';
export const SERVICES_DIR = 'services';
const OVERLAY_PREFIX = '@';

export type RepoPath =
  | { readonly kind: 'settings' }
  | { readonly kind: 'policy' }
  | { readonly kind: 'service'; readonly service: string }
  | { readonly kind: 'config'; readonly service: string; readonly file: string }
  | { readonly kind: 'overlay'; readonly service: string; readonly env: string; readonly file: string }
  | { readonly kind: 'release'; readonly service: string; readonly env: string }
  /** Under services/<service>/ but not a place Cairn reads: probably a mistake. */
  | { readonly kind: 'stray'; readonly service: string }
  /** Outside what Cairn reads (README, CI files …): ignored. */
  | { readonly kind: 'other' };

/**
 * Where `path` sits in the layout. Found with `indexOf` rather than by splitting the path: a restart
 * classifies every path of the repository.
 */
export function classifyPath(path: string): RepoPath {
  if (path === SETTINGS_FILE) return { kind: 'settings' };
  if (path === POLICY_FILE) return { kind: 'policy' };
  // services/<service>/<area>[/<rest>]
  if (!path.startsWith(SERVICES_PREFIX)) return OTHER;
  const serviceEnd = path.indexOf('/', SERVICES_PREFIX.length);
  if (serviceEnd < 0) return OTHER;
  const service = path.slice(SERVICES_PREFIX.length, serviceEnd);
  const areaEnd = path.indexOf('/', serviceEnd + 1);
  const area = path.slice(serviceEnd + 1, areaEnd < 0 ? path.length : areaEnd);
  if (areaEnd < 0) return area === 'service.yaml' ? { kind: 'service', service } : { kind: 'stray', service };
  const rest = path.slice(areaEnd + 1);
  if (area === 'config') {
    const firstEnd = rest.indexOf('/');
    if (rest.startsWith(OVERLAY_PREFIX) && firstEnd >= 0) {
      return {
        kind: 'overlay',
        service,
        env: rest.slice(OVERLAY_PREFIX.length, firstEnd),
        file: rest.slice(firstEnd + 1),
      };
    }
    return { kind: 'config', service, file: rest };
  }
  if (area === 'releases' && !rest.includes('/') && rest.endsWith('.yaml')) {
    return { kind: 'release', service, env: rest.slice(0, -'.yaml'.length) };
  }
  return { kind: 'stray', service };
}

const SERVICES_PREFIX = `${SERVICES_DIR}/`;
const OTHER: RepoPath = { kind: 'other' };

/**
 * A config file whose name ends in `.liquid` is a template: it renders, for each environment, to the
 * effective file named without the extension (`conf.d/upstreams.conf.liquid` → `conf.d/upstreams.conf`).
 */
export const TEMPLATE_EXTENSION = '.liquid';

/** The effective file a template renders to, or undefined when `file` is not a template. */
export function templateTarget(file: string): string | undefined {
  if (!file.endsWith(TEMPLATE_EXTENSION)) return undefined;
  const target = file.slice(0, -TEMPLATE_EXTENSION.length);
  // `.liquid` alone, or `dir/.liquid`, names no file to render to: it is an ordinary file.
  return target === '' || target.endsWith('/') ? undefined : target;
}

export function serviceManifestPath(service: string): string {
  return `${SERVICES_DIR}/${service}/service.yaml`;
}

/** The release manifest of a service in an environment. */
export function releaseManifestPath(service: string, env: string): string {
  return `${SERVICES_DIR}/${service}/releases/${env}.yaml`;
}

/** Names of services, environments: lower-case, digits and dashes, as the schemas require. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
