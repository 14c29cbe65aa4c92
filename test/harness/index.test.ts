import { expect, it } from 'vitest';
import * as harness from './index.js';

// The harness's public surface is a contract with every test that uses it: change it on purpose.
it('exports exactly the harness API', () => {
  expect(Object.keys(harness).sort()).toEqual([
    'LocalServerError',
    'createBareRepo',
    'createWorkRepo',
    'fourLetterWord',
    'listenOnLoopback',
    'startEnsemble',
    'startGitServer',
    'startGitServerProcess',
    'startZooKeeper',
    'waitFor',
  ]);
});
