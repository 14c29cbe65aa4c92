import { describe, expect, it } from 'vitest';
import type { ServiceRecord } from '../core/index.js';
import { assignmentsOf, sameSettings } from './assignments.js';

const record = (name: string, extra: Partial<ServiceRecord> = {}): ServiceRecord => ({
  name,
  description: '',
  owners: [],
  dependsOn: [],
  files: { directory: `/etc/${name}`, mode: '0640', prune: false },
  environments: {
    dev: {
      name: 'dev',
      loadBalancing: 'weighted-round-robin',
      check: 'nginx -t',
      hosts: [{ host: 'h1', weight: 100, labels: {} }],
    },
    prod: {
      name: 'prod',
      loadBalancing: 'weighted-round-robin',
      reload: 'systemctl reload x',
      hosts: [{ host: 'h2', weight: 100, labels: {} }],
    },
  },
  ...extra,
});

describe('what a host runs', () => {
  it('is every service and environment that lists it and has files', () => {
    const services = new Map([
      ['edge', record('edge')],
      ['api', record('api', { files: undefined })],
    ]);
    expect(assignmentsOf(services, 'h1', undefined)).toEqual([
      {
        service: 'edge',
        env: 'dev',
        key: 'edge/dev',
        settings: { directory: '/etc/edge', mode: 0o640, prune: false, check: 'nginx -t' },
      },
    ]);
    expect(assignmentsOf(services, 'h2', '/tmp/agent-2')[0]?.settings).toMatchObject({
      directory: '/tmp/agent-2/etc/edge',
      reload: 'systemctl reload x',
    });
    expect(assignmentsOf(services, 'nobody', undefined)).toEqual([]);
  });

  it('tells a change of how files are kept', () => {
    const a = { directory: '/etc/a', mode: 0o644, prune: false };
    expect(sameSettings(a, { ...a })).toBe(true);
    expect(sameSettings(a, { ...a, mode: 0o600 })).toBe(false);
    expect(sameSettings(a, { ...a, check: 'true' })).toBe(false);
  });
});
