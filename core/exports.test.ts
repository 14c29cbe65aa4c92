import { expect, it } from 'vitest';
import * as schemas from '../schemas/index.js';
import * as syncer from '../syncer/index.js';
import * as core from './index.js';

// The public surfaces other parts build on: a change here is a change of a contract, made on purpose.
it('core exports exactly these names', () => {
  expect(Object.keys(core).sort()).toEqual([
    'CairnError',
    'DEFAULT_HISTORY_RETENTION',
    'DEFAULT_MAX_FILE_BYTES',
    'LeaderElection',
    'LineIndex',
    'POLICY_FILE',
    'RepoNotFoundError',
    'SETTINGS_FILE',
    'START_OF_FILE',
    'SessionKeeper',
    'UnsafePathError',
    'ZK_MAX_REQUEST_BYTES',
    'ZK_OPEN_ACL',
    'ZK_PERMS',
    'ZkError',
    'ZkLayout',
    'ZkSession',
    'batchSizeOf',
    'classifyPath',
    'compareDiagnostics',
    'composeInventory',
    'contentId',
    'createRepoModelCache',
    'decodeText',
    'deepMerge',
    'diagnostic',
    'diffConfigRepos',
    'diffInventories',
    'digestAclId',
    'formatOf',
    'inventoryOf',
    'isEmptyDiff',
    'loadConfigRepo',
    'manifestProblems',
    'mergeOverlay',
    'newestMatchingTag',
    'parseSource',
    'readEnvironmentSnapshot',
    'readRepoDir',
    'rolloutOf',
    'serializeValue',
    'serviceManifestPath',
    'unsafePathReason',
  ]);
});

it('schemas exports exactly these names', () => {
  expect(Object.keys(schemas).sort()).toEqual([
    'MANIFEST_SCHEMAS',
    'checkManifest',
    'checkSemantics',
    'validateRepo',
    'validateRepoDir',
  ]);
});

it('syncer exports exactly these names', () => {
  expect(Object.keys(syncer).sort()).toEqual([
    'CommitRefusedError',
    'Mirror',
    'SYNCER_ENV',
    'SyncerConfigError',
    'SyncerDaemon',
    'TransactionTooLargeError',
    'decodeHeadRecord',
    'resolveSyncerConfig',
    'syncOnce',
  ]);
});
