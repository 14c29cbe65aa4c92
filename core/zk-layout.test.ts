import { describe, expect, it } from 'vitest';
import { UnsafePathError } from './errors.js';
import {
  controlSeqOf,
  deploymentId,
  deploymentSeqOf,
  historySeqOf,
  logChunkSeqOf,
  ZkLayout,
} from './zk-layout.js';

describe('ZkLayout', () => {
  const layout = new ZkLayout('/cairn');
  const id = '0123456789abcdef0123456789abcdef01234567';

  it('builds the documented paths', () => {
    expect(layout.head()).toBe('/cairn/head');
    expect(layout.environment('recommender', 'prod')).toBe('/cairn/config/recommender/prod');
    expect(layout.content(id)).toBe(`/cairn/content/01/${id}`);
    expect(layout.release('search-api', 'staging')).toBe('/cairn/releases/search-api/staging');
    expect(layout.instance('search-api', 'dev', 'host-1')).toBe('/cairn/instances/search-api/dev/host-1');
    expect(layout.historyRecord(42)).toBe('/cairn/history/0000000042');
    expect(layout.pin('deployment-recommender-prod-7')).toBe('/cairn/pins/deployment-recommender-prod-7');
    expect(layout.drainPin('edge-gateway', 'prod')).toBe('/cairn/pins/drain@edge-gateway@prod');
    expect(layout.drainPinOf('drain@edge-gateway@prod')).toEqual({ service: 'edge-gateway', env: 'prod' });
    for (const other of ['config-rollout@recommender@prod', 'drain@edge-gateway', 'drain@a@b@c'])
      expect(layout.drainPinOf(other)).toBeUndefined();
    expect(layout.syncerCandidate('candidate-0000000003')).toBe('/cairn/syncers/candidate-0000000003');
    expect(layout.electionCandidatePrefix('nightly-reports', 'prod', 'nightly-export')).toBe(
      '/cairn/elections/nightly-reports/prod/nightly-export/candidate-',
    );
    expect(
      layout.electionCandidate('nightly-reports', 'prod', 'nightly-export', 'candidate-0000000001'),
    ).toBe('/cairn/elections/nightly-reports/prod/nightly-export/candidate-0000000001');
    expect(() => layout.election('nightly-reports', 'prod', '../x')).toThrow(
      expect.objectContaining({ code: 'UNSAFE_PATH' }),
    );
  });

  it('shards content over 256 folders that the fixed folders include', () => {
    const shards = layout.contentShards();
    expect(shards).toHaveLength(256);
    expect(shards[0]).toBe('/cairn/content/00');
    expect(shards[255]).toBe('/cairn/content/ff');
    expect(layout.fixedFolders()).toEqual(expect.arrayContaining(shards));
    const folders = layout.fixedFolders();
    expect(folders.indexOf('/cairn/content')).toBeLessThan(folders.indexOf('/cairn/content/00'));
  });

  it('reads a history record name back as its sequence number', () => {
    expect(historySeqOf('0000000042')).toBe(42);
    expect(historySeqOf('h-0000000042')).toBeUndefined();
    expect(layout.historyRecord(historySeqOf('0000000042') as number)).toBe('/cairn/history/0000000042');
  });

  it('honours a nested root', () => {
    expect(new ZkLayout('/teams/web/cairn').head()).toBe('/teams/web/cairn/head');
  });

  it.each([['cairn'], ['/'], ['/cairn/'], ['/a/../b'], ['/a//b']])('refuses the root %j', (root) => {
    expect(() => new ZkLayout(root)).toThrow(UnsafePathError);
  });

  it('refuses names that would escape their folder', () => {
    expect(() => layout.service('../head')).toThrow(UnsafePathError);
    expect(() => layout.environment('svc', 'a/b')).toThrow(UnsafePathError);
    expect(() => layout.agent('host\u0000')).toThrow(UnsafePathError);
    expect(() => layout.content('../../head')).toThrow(UnsafePathError);
    expect(() => layout.content(id.toUpperCase())).toThrow(UnsafePathError);
    expect(() => layout.historyRecord(0)).toThrow(UnsafePathError);
    expect(() => layout.historyRecord(1.5)).toThrow(UnsafePathError);
  });
});

describe('deployment paths', () => {
  const layout = new ZkLayout('/cairn');
  it('names a deployment, its tasks, claims, control actions and log chunks', () => {
    const id = deploymentId(7);
    expect(id).toBe('d-0000000007');
    expect(deploymentSeqOf(id)).toBe(7);
    expect(layout.deploymentTask('search-api', 'prod', id, 'h1')).toBe(
      '/cairn/deployments/search-api/prod/d-0000000007/tasks/h1',
    );
    expect(layout.deploymentClaim('search-api', 'prod', id, 'h1')).toBe(
      '/cairn/deployments/search-api/prod/d-0000000007/claims/h1',
    );
    expect(layout.deploymentControlPrefix('search-api', 'prod', id)).toBe(
      '/cairn/deployments/search-api/prod/d-0000000007/control/action-',
    );
    expect(controlSeqOf('action-0000000003')).toBe(3);
    expect(layout.deploymentLogChunk('search-api', 'prod', id, 'h1', 12)).toBe(
      '/cairn/deployments/search-api/prod/d-0000000007/log/h1/0000000012',
    );
    expect(logChunkSeqOf('0000000012')).toBe(12);
  });

  it('refuses ids and hosts that are not names', () => {
    expect(() => layout.deployment('s', 'e', '../x')).toThrow(/deployment id/);
    expect(() => layout.deploymentTask('s', 'e', deploymentId(1), 'a/b')).toThrow(/cannot contain/);
  });
});
