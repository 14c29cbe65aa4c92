import { describe, expect, it } from 'vitest';
import { ChangeStream, type ConfigChange } from './change-stream.js';

const author = { name: 'Ada', email: 'ada@example.com' };

function change(
  commit: string,
  previousCommit: string,
  files: [string, string | undefined, string | undefined][],
) {
  return {
    commit,
    previousCommit,
    author,
    message: `commit ${commit}`,
    time: '2025-01-01T00:00:00Z',
    files: files.map(([file, previousContentId, contentId]) => ({
      file,
      kind: previousContentId === undefined ? 'added' : contentId === undefined ? 'removed' : 'modified',
      contentId,
      previousContentId,
      value: contentId,
      previousValue: previousContentId,
    })),
  } as ConfigChange;
}

describe('ChangeStream', () => {
  it('hands a change to a waiting consumer at once', async () => {
    const stream = new ChangeStream(() => {});
    const next = stream.next();
    stream.push(change('c1', 'c0', [['a', '1', '2']]));
    expect((await next).value?.commit).toBe('c1');
  });

  it('coalesces changes a slow consumer has not taken into one, from the oldest to the newest', async () => {
    const stream = new ChangeStream(() => {});
    stream.push(change('c1', 'c0', [['a', '1', '2']]));
    stream.push(change('c2', 'c1', [['b', undefined, '1']]));
    stream.push(change('c3', 'c2', [['a', '2', '3']]));
    const { value } = await stream.next();
    expect(value).toMatchObject({
      commit: 'c3',
      previousCommit: 'c0',
      message: 'commit c3',
      files: [
        { file: 'a', kind: 'modified', previousValue: '1', value: '3' },
        { file: 'b', kind: 'added', value: '1' },
      ],
    });
  });

  it('delivers nothing for changes that cancel out', async () => {
    const stream = new ChangeStream(() => {});
    stream.push(change('c1', 'c0', [['a', '1', '2']]));
    stream.push(change('c2', 'c1', [['a', '2', '1']]));
    const next = stream.next();
    stream.push(change('c3', 'c2', [['b', undefined, '1']]));
    expect((await next).value?.commit).toBe('c3');
  });

  it('ends on break and on end(), resolving every waiting call, and stops taking changes', async () => {
    let ended = 0;
    const stream = new ChangeStream(() => ended++);
    const waiting = [stream.next(), stream.next()];
    stream.end();
    expect(await Promise.all(waiting)).toEqual([
      { value: undefined, done: true },
      { value: undefined, done: true },
    ]);
    stream.push(change('c1', 'c0', [['a', '1', '2']]));
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    const other = new ChangeStream(() => ended++);
    other.push(change('c1', 'c0', [['a', '1', '2']]));
    for await (const value of other) {
      expect(value.commit).toBe('c1');
      break;
    }
    expect(ended).toBe(2);
  });
});
