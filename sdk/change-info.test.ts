import { describe, expect, it } from 'vitest';
import { changeInfoOf } from './change-info.js';

const head = {
  commit: 'b'.repeat(40),
  author: { name: 'Ada', email: 'ada@example.com' },
  message: 'Tune dev',
  time: '2026-11-23T10:00:00.000Z',
  environments: {
    dev: { commit: 'b'.repeat(40) },
    prod: {
      commit: 'a'.repeat(40),
      tag: 'v2.14.0',
      author: { name: 'Grace', email: 'g@example.com' },
      message: 'Release',
      time: '2026-11-20T09:00:00.000Z',
    },
  },
};

describe('the change info of an environment', () => {
  it('is the branch head for an environment that follows the branch', () => {
    expect(changeInfoOf(head, 'dev')).toEqual({
      commit: 'b'.repeat(40),
      author: { name: 'Ada', email: 'ada@example.com' },
      message: 'Tune dev',
      time: '2026-11-23T10:00:00.000Z',
    });
  });

  it('is the tagged commit for an environment that follows release tags', () => {
    expect(changeInfoOf(head, 'prod')).toEqual({
      commit: 'a'.repeat(40),
      author: { name: 'Grace', email: 'g@example.com' },
      message: 'Release',
      time: '2026-11-20T09:00:00.000Z',
    });
  });

  it('reads missing fields as empty', () => {
    expect(changeInfoOf({ commit: 'c'.repeat(40) })).toEqual({
      commit: 'c'.repeat(40),
      author: { name: '', email: '' },
      message: '',
      time: '',
    });
  });
});
