import { join } from 'node:path';
import { environmentKey, type ServiceRecord } from '../core/index.js';
import type { ServiceSettings } from './local-store.js';

/** A service in one environment that runs on this host, and how its files are kept. */
export interface Assignment {
  readonly service: string;
  readonly env: string;
  /** `environmentKey(service, env)`. */
  readonly key: string;
  readonly settings: ServiceSettings;
}

/**
 * What this host runs, from the service tree: every service and environment whose hosts list it and
 * whose service.yaml has `files` (services that read their configuration through the SDK have none,
 * and the agent leaves them alone). `prefix` places every directory under one folder.
 */
export function assignmentsOf(
  services: ReadonlyMap<string, ServiceRecord>,
  host: string,
  prefix: string | undefined,
): Assignment[] {
  const out: Assignment[] = [];
  for (const record of services.values()) {
    const files = record.files;
    if (!files) continue;
    for (const environment of Object.values(record.environments)) {
      if (!environment.hosts.some((entry) => entry.host === host)) continue;
      out.push({
        service: record.name,
        env: environment.name,
        key: environmentKey(record.name, environment.name),
        settings: {
          directory: prefix ? join(prefix, files.directory) : files.directory,
          mode: Number.parseInt(files.mode, 8),
          ...(files.owner !== undefined ? { owner: files.owner } : {}),
          prune: files.prune,
          ...(environment.check !== undefined ? { check: environment.check } : {}),
          ...(environment.reload !== undefined ? { reload: environment.reload } : {}),
        },
      });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Whether two settings keep files the same way (a change rewrites every file). */
export function sameSettings(a: ServiceSettings, b: ServiceSettings): boolean {
  return (
    a.directory === b.directory &&
    a.mode === b.mode &&
    a.owner === b.owner &&
    a.prune === b.prune &&
    a.check === b.check &&
    a.reload === b.reload
  );
}

/** A service and environment whose deploy tasks run on this host, and the service's user (files.owner). */
export interface DeployAssignment {
  readonly service: string;
  readonly env: string;
  readonly key: string;
  readonly owner?: string;
}

/** Every service and environment whose hosts list this host, with or without files: its deploy tasks run here. */
export function deployAssignmentsOf(
  services: ReadonlyMap<string, ServiceRecord>,
  host: string,
): DeployAssignment[] {
  const out: DeployAssignment[] = [];
  for (const record of services.values()) {
    for (const environment of Object.values(record.environments)) {
      if (!environment.hosts.some((entry) => entry.host === host)) continue;
      out.push({
        service: record.name,
        env: environment.name,
        key: environmentKey(record.name, environment.name),
        ...(record.files?.owner !== undefined ? { owner: record.files.owner } : {}),
      });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}
