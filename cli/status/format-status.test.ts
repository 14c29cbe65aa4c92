import { describe, expect, it } from 'vitest';
import type { HostStatus } from '../../core/index.js';
import { hostSummary } from './format-status.js';

const HELD = 'a'.repeat(40);

describe('hostSummary', () => {
  it('counts hosts held by a rollout as applied, and says where they are held', () => {
    const hosts: HostStatus[] = [
      { host: 'cfg-01', state: 'applied' },
      { host: 'cfg-02', state: 'applied', heldAt: HELD },
      { host: 'cfg-03', state: 'applied', heldAt: HELD },
      { host: 'cfg-04', state: 'behind', heldAt: HELD },
    ];
    expect(hostSummary(hosts)).toBe(
      `3/4 applied (2 held at ${HELD.slice(0, 12)} until the rollout reaches them), 0 rejected, 1 behind`,
    );
  });

  it('says which hosts serve files that drain deploying hosts, not that a rollout holds them', () => {
    const drained = { web: ['web-02', 'web-01'] };
    const hosts: HostStatus[] = [
      { host: 'edge-01', state: 'applied', drained },
      { host: 'edge-02', state: 'applied', drained },
      { host: 'edge-03', state: 'behind', drained },
    ];
    expect(hostSummary(hosts)).toBe(
      "2/3 applied (2 with web-02, web-01 drained for web's deploy), 0 rejected, 1 behind",
    );
  });

  it('names rejected and failing hosts with their reasons, and hosts without an agent', () => {
    const hosts: HostStatus[] = [
      { host: 'edge-01', state: 'rejected', reason: 'check exited 1: bad directive' },
      { host: 'edge-02', state: 'failed', reason: 'EACCES' },
      { host: 'edge-03', state: 'no agent' },
    ];
    expect(hostSummary(hosts)).toBe(
      '0/3 applied, 1 rejected (edge-01: check exited 1: bad directive), 0 behind, 1 failing (edge-02: EACCES), 1 without an agent (edge-03)',
    );
  });
});
