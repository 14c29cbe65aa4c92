import { describe, expect, it } from 'vitest';
import * as gitSource from './index.js';

describe('the public surface of syncer/git', () => {
  it('exports exactly these values (types are erased)', () => {
    expect(Object.keys(gitSource).sort()).toEqual([
      'BranchNotFoundError',
      'CommitNotFoundError',
      'DEFAULT_GIT_TIMEOUT_MS',
      'DEFAULT_PACK_LIMIT',
      'DEFAULT_TREE_LIMITS',
      'GitUnreachableError',
      'RepackError',
      'RepositoryNotFoundError',
      'TOKEN_USERNAME',
      'TreeLimitError',
      'UnsafeTreeEntryError',
      'UnsupportedGitUrlError',
      'openGitSource',
      'resolveGitCredentials',
      'withoutCredentials',
    ]);
  });
});
