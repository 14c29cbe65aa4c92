import { describe, expect, it } from 'vitest';
import { changeInfoOf, isChangeInfo } from './change-info.js';

const revision = {
  commit: 'a'.repeat(40),
  tag: 'v2.14.0',
  author: { name: 'Grace', email: 'g@example.com' },
  message: 'Release',
  time: '2026-11-20T09:00:00.000Z',
};

describe('the change info of an environment', () => {
  it('is the revision its pointer records, tag included', () => {
    expect(changeInfoOf(revision)).toEqual(revision);
    const { tag: _tag, ...branch } = revision;
    expect(changeInfoOf(branch)).toEqual(branch);
  });

  it('is recognised in a cache file only when every field has its type', () => {
    expect(isChangeInfo(changeInfoOf(revision))).toBe(true);
    expect(isChangeInfo({ ...revision, tag: 7 })).toBe(false);
    expect(isChangeInfo({ ...revision, author: { name: 'x' } })).toBe(false);
    expect(isChangeInfo(null)).toBe(false);
  });
});
