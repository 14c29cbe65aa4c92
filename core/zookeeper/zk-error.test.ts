import { describe, expect, it } from 'vitest';
import { ZkError, type ZkErrorCode } from './zk-error.js';

describe('ZkError', () => {
  it('calls stale exactly the failures of a write checked against what changed since it was read', () => {
    const stale = (code: ZkErrorCode) => new ZkError(code, code).stale;
    expect(['BAD_VERSION', 'NODE_EXISTS', 'NO_NODE'].map((c) => stale(c as ZkErrorCode))).toEqual([
      true,
      true,
      true,
    ]);
    for (const code of ['CONNECTION_LOSS', 'TIMEOUT', 'SESSION_EXPIRED', 'NO_AUTH', 'NOT_EMPTY', 'ZK_OTHER'])
      expect(stale(code as ZkErrorCode)).toBe(false);
  });
});
