import { describe, expect, it } from 'vitest';
import * as sdk from './index.js';

describe('the public surface of cairn/sdk', () => {
  it('exports exactly these names: a change here is a change of the public API', () => {
    expect(Object.keys(sdk).sort()).toEqual([
      'ActiveStandby',
      'CairnClient',
      'ClientStateError',
      'ConfigFileNotFoundError',
      'ConfigRejectedError',
      'ConfigRepoInvalidError',
      'ConsistentHashRing',
      'DEFAULT_WEIGHT',
      'EnvironmentNotFoundError',
      'InvalidOptionsError',
      'KeyPathError',
      'SDK_ENV',
      'SdkWarning',
      'ServiceConfig',
      'ServiceDiscovery',
      'SmoothWeightedRoundRobin',
      'ValueInvalidError',
      'ValueNotFoundError',
      'ZooKeeperUnreachableError',
      'connect',
      'decodeInstanceRecord',
      'discover',
    ]);
  });

  it('gives every error a stable code and the CairnError base', () => {
    const errors = [
      new sdk.InvalidOptionsError('zk', 'bad'),
      new sdk.ZooKeeperUnreachableError('zk1:2181', 1000, 'could not connect', { dir: '/var/cache/x' }),
      new sdk.EnvironmentNotFoundError('recommender', 'qa', true),
      new sdk.ConfigRejectedError('a'.repeat(40), [{ file: 'a.yaml', reason: 'bad' }]),
      new sdk.ConfigFileNotFoundError('x.yaml', ['a.yaml']),
      new sdk.ClientStateError('CLIENT_CLOSED', 'closed'),
      new sdk.SdkWarning('CACHE_CORRUPT', 'corrupt'),
      new sdk.ValueNotFoundError('a.yaml', 'ranking.max', { fileMissing: false, at: 'ranking' }),
      new sdk.ValueInvalidError('a.yaml', 'ranking.max', 'is a string'),
      new sdk.KeyPathError('a..b', 'it has an empty key'),
      new sdk.ConfigRepoInvalidError('/repo', []),
    ];
    expect(errors.map((error) => [error.name, error.code])).toEqual([
      ['InvalidOptionsError', 'INVALID_OPTIONS'],
      ['ZooKeeperUnreachableError', 'ZOOKEEPER_UNREACHABLE'],
      ['EnvironmentNotFoundError', 'ENVIRONMENT_NOT_FOUND'],
      ['ConfigRejectedError', 'CONFIG_REJECTED'],
      ['ConfigFileNotFoundError', 'FILE_NOT_FOUND'],
      ['ClientStateError', 'CLIENT_CLOSED'],
      ['SdkWarning', 'CACHE_CORRUPT'],
      ['ValueNotFoundError', 'VALUE_NOT_FOUND'],
      ['ValueInvalidError', 'VALUE_INVALID'],
      ['KeyPathError', 'INVALID_KEY_PATH'],
      ['ConfigRepoInvalidError', 'CONFIG_REPO_INVALID'],
    ]);
    expect(errors[1]?.message).toContain('no usable cache in /var/cache/x');
  });
});
