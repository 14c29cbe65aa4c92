import { UnsafePathError } from './errors.js';
import { unsafePathReason } from './path-safety.js';

/**
 * Every ZooKeeper path Cairn uses is built here and nowhere else.
 *
 *   <root>                                   default /cairn
 *     /head                                  JSON: the mirrored commit and its metadata
 *     /pending                               JSON: a commit being written in several transactions
 *     /history/h-<seq>                       JSON record per mirrored commit (bounded retention)
 *     /config/<service>/<env>                JSON index of the environment's effective files
 *     /config/<service>/<env>/<file path>    effective file bytes; folders become nested znodes
 *     /services/<service>                    JSON of service.yaml
 *     /releases/<service>/<env>              JSON of the release manifest
 *     /deployments/<service>/<env>/<id>      a deployment and its per-host state
 *     /instances/<service>/<env>/<id>        ephemeral: one running instance of a service
 *     /agents/<host>                         ephemeral: one host agent
 *     /syncers/candidate-<seq>               ephemeral sequential: leader election of syncers
 */
export class ZkLayout {
  readonly root: string;

  constructor(root = '/cairn') {
    if (!/^(\/[^/]+)+$/.test(root) || unsafePathReason(root.slice(1))) {
      throw new UnsafePathError(
        root,
        'the ZooKeeper root must be an absolute path like /cairn, without "." or ".." segments',
      );
    }
    this.root = root;
  }

  head(): string {
    return `${this.root}/head`;
  }

  pending(): string {
    return `${this.root}/pending`;
  }

  historyDir(): string {
    return `${this.root}/history`;
  }

  /** Prefix for sequential history nodes; ZooKeeper appends a 10-digit counter. */
  historyPrefix(): string {
    return `${this.historyDir()}/h-`;
  }

  configDir(): string {
    return `${this.root}/config`;
  }

  configService(service: string): string {
    return `${this.configDir()}/${segment(service)}`;
  }

  /** The environment node: its data is the index of the environment's files. */
  configEnv(service: string, env: string): string {
    return `${this.configService(service)}/${segment(env)}`;
  }

  configFile(service: string, env: string, file: string): string {
    return `${this.configEnv(service, env)}/${relativePath(file)}`;
  }

  servicesDir(): string {
    return `${this.root}/services`;
  }

  service(service: string): string {
    return `${this.servicesDir()}/${segment(service)}`;
  }

  releasesDir(): string {
    return `${this.root}/releases`;
  }

  releaseService(service: string): string {
    return `${this.releasesDir()}/${segment(service)}`;
  }

  release(service: string, env: string): string {
    return `${this.releaseService(service)}/${segment(env)}`;
  }

  deployments(service: string, env: string): string {
    return `${this.root}/deployments/${segment(service)}/${segment(env)}`;
  }

  deployment(service: string, env: string, id: string): string {
    return `${this.deployments(service, env)}/${segment(id)}`;
  }

  instances(service: string, env: string): string {
    return `${this.root}/instances/${segment(service)}/${segment(env)}`;
  }

  instance(service: string, env: string, id: string): string {
    return `${this.instances(service, env)}/${segment(id)}`;
  }

  agentsDir(): string {
    return `${this.root}/agents`;
  }

  agent(host: string): string {
    return `${this.agentsDir()}/${segment(host)}`;
  }

  syncersDir(): string {
    return `${this.root}/syncers`;
  }

  /** Prefix for ephemeral sequential election nodes. */
  syncerCandidatePrefix(): string {
    return `${this.syncersDir()}/candidate-`;
  }

  /**
   * The service and environment a repository-mirror znode belongs to: environment nodes and what is
   * below them in /config, and release nodes. Undefined for anything not specific to one environment.
   */
  environmentOf(path: string): { readonly service: string; readonly env: string } | undefined {
    if (!path.startsWith(`${this.root}/`)) return undefined;
    const parts = path.slice(this.root.length + 1).split('/');
    const [area, service, env] = parts;
    if (service === undefined || env === undefined) return undefined;
    if (area === 'config' || (area === 'releases' && parts.length === 3)) return { service, env };
    return undefined;
  }

  /** Every ancestor of `path` below and including the root, outermost first (for creating parents). */
  ancestorsOf(path: string): string[] {
    if (!path.startsWith(`${this.root}/`))
      throw new UnsafePathError(path, `not under the Cairn root ${this.root}`);
    const out: string[] = [];
    for (let i = path.indexOf('/', this.root.length + 1); i !== -1; i = path.indexOf('/', i + 1)) {
      out.push(path.slice(0, i));
    }
    return [this.root, ...out];
  }
}

function segment(name: string): string {
  const reason = name.includes('/') ? 'a name cannot contain "/"' : unsafePathReason(name);
  if (reason) throw new UnsafePathError(name, reason);
  return name;
}

function relativePath(path: string): string {
  const reason = unsafePathReason(path);
  if (reason) throw new UnsafePathError(path, reason);
  return path;
}
