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

export function classifyPath(path: string): RepoPath {
  if (path === SETTINGS_FILE) return { kind: 'settings' };
  if (path === POLICY_FILE) return { kind: 'policy' };
  const parts = path.split('/');
  if (parts[0] !== SERVICES_DIR || parts.length < 3) return { kind: 'other' };
  const service = parts[1] as string;
  const area = parts[2];
  if (parts.length === 3 && area === 'service.yaml') return { kind: 'service', service };
  if (area === 'config' && parts.length >= 4) {
    const first = parts[3] as string;
    if (first.startsWith(OVERLAY_PREFIX) && parts.length >= 5) {
      return {
        kind: 'overlay',
        service,
        env: first.slice(OVERLAY_PREFIX.length),
        file: parts.slice(4).join('/'),
      };
    }
    return { kind: 'config', service, file: parts.slice(3).join('/') };
  }
  if (area === 'releases' && parts.length === 4 && parts[3]?.endsWith('.yaml')) {
    return { kind: 'release', service, env: (parts[3] as string).slice(0, -'.yaml'.length) };
  }
  return { kind: 'stray', service };
}

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
