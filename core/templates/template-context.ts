import type { Service } from '../config-repo.js';
import { DEFAULT_LOAD_BALANCING, type LoadBalancing } from '../manifests.js';

/** A host of a service in one environment, as a template sees it. */
export interface TemplateHost {
  readonly host: string;
  /** 0 means deployed but out of rotation (nginx: `down`). */
  readonly weight: number;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * In a running deploy step of its service, and the service rendering opted in to see it
   * (`drainDuringDeploys`): take it out of rotation (nginx: `down`) until its health check passed.
   * Always false in what the syncer publishes.
   */
  readonly draining: boolean;
}

/** The hosts draining in one environment, by service: the hosts of each running deploy step. */
export type DrainingHosts = ReadonlyMap<string, ReadonlySet<string>>;

/** A service in one environment, as a template sees it. */
export interface TemplateService {
  readonly name: string;
  /** The port its instances listen on; null for a service that does not listen. */
  readonly port: number | null;
  readonly loadBalancing: LoadBalancing;
  /** In the order service.yaml lists them; empty where the service does not run in the environment. */
  readonly hosts: readonly TemplateHost[];
  /** The URL path prefixes it serves through a gateway (service.yaml `routes`), longest first. */
  readonly routes: readonly string[];
}

/** One URL path prefix and the service that serves it. */
export interface TemplateRoute {
  readonly prefix: string;
  readonly service: string;
}

/**
 * Everything a template sees when it renders for one environment, and nothing else: the service the
 * file belongs to, the environment, and the services it names in `dependsOn`. Built from the model
 * alone, so the same repository always renders the same bytes.
 */
export interface TemplateContext {
  /** The service the template belongs to, in this environment. */
  readonly service: TemplateService;
  readonly environment: { readonly name: string };
  /** The services of `dependsOn`, in that order, each in this environment. */
  readonly dependencies: readonly TemplateService[];
  /** The routes of every dependency, longest prefix first (ties in byte order): nginx `location` order. */
  readonly routes: readonly TemplateRoute[];
}

/**
 * The context of `service`'s templates in `environment`, from the model's services (by name). Undefined when a
 * service of `dependsOn` is not in the model (unknown, or its service.yaml has errors, which are
 * reported on their own): a template never renders from part of the service tree. The hosts of
 * `draining` are draining in the dependencies only where `service` opted in (`drainDuringDeploys`).
 */
export function templateContextOf(
  service: Service,
  environment: string,
  services: ReadonlyMap<string, Service>,
  draining?: DrainingHosts,
): TemplateContext | undefined {
  const drains = service.environments.get(environment)?.drainDuringDeploys === true;
  const dependencies: TemplateService[] = [];
  for (const name of service.manifest.dependsOn ?? []) {
    const dependency = services.get(name);
    if (!dependency) return undefined;
    dependencies.push(serviceIn(dependency, environment, drains ? draining?.get(name) : undefined));
  }
  const routes = dependencies
    .flatMap((dependency) => dependency.routes.map((prefix) => ({ prefix, service: dependency.name })))
    .sort((a, b) => compareRoutes(a.prefix, b.prefix) || compareStrings(a.service, b.service));
  return {
    service: serviceIn(service, environment),
    environment: { name: environment },
    dependencies,
    routes,
  };
}

function serviceIn(service: Service, env: string, draining?: ReadonlySet<string>): TemplateService {
  const environment = service.environments.get(env);
  return {
    name: service.name,
    port: service.manifest.port ?? null,
    loadBalancing: environment?.loadBalancing ?? DEFAULT_LOAD_BALANCING,
    hosts: (environment?.hosts ?? []).map((host) => ({
      host: host.host,
      weight: host.weight,
      labels: { ...host.labels },
      draining: draining?.has(host.host) ?? false,
    })),
    routes: [...(service.manifest.routes ?? [])].sort(compareRoutes),
  };
}

/** Longest first, as nginx needs regular-expression locations and as readers scan prefixes. */
function compareRoutes(a: string, b: string): number {
  return b.length - a.length || compareStrings(a, b);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
