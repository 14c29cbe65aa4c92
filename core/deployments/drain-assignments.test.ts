import { describe, expect, it } from 'vitest';
import type { SnapshotRef } from '../records/environment-pointer.js';
import { drainAssignmentsOf } from './drain-assignments.js';

const snapshot = (digit: string): SnapshotRef => ({
  manifest: digit.repeat(40),
  revision: {
    commit: 'c'.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    message: 'm',
    time: '2026-03-01T10:00:00.000Z',
  },
});
const pointer = snapshot('1');
const drained = snapshot('2');
const hosts = ['edge-1', 'edge-2'];

describe('the assignments of a consumer that drains', () => {
  it('assigns every host the drained snapshot while hosts drain', () => {
    expect(drainAssignmentsOf({ hosts, pointer, drained, assigned: [] })).toEqual(
      new Map([
        ['edge-1', drained],
        ['edge-2', drained],
      ]),
    );
  });

  it('gives a host no longer listed the pointer’s snapshot back, and assigns nothing to a host that never drained', () => {
    const out = drainAssignmentsOf({ hosts, pointer, drained: undefined, assigned: ['edge-1', 'edge-9'] });
    expect(out).toEqual(
      new Map([
        ['edge-1', pointer],
        ['edge-9', pointer],
      ]),
    );
    expect(drainAssignmentsOf({ hosts, pointer, drained, assigned: ['edge-9'] }).get('edge-9')).toEqual(
      pointer,
    );
  });

  it('never removes an assignment: once nothing drains, each names the pointer’s snapshot', () => {
    expect(drainAssignmentsOf({ hosts, pointer, drained: undefined, assigned: hosts })).toEqual(
      new Map([
        ['edge-1', pointer],
        ['edge-2', pointer],
      ]),
    );
  });

  it('assigns a drained snapshot equal to the pointer’s too (files that do not mention the drain)', () => {
    expect(drainAssignmentsOf({ hosts, pointer, drained: pointer, assigned: [] })).toEqual(
      new Map([
        ['edge-1', pointer],
        ['edge-2', pointer],
      ]),
    );
  });
});
