import { describe, expect, it } from 'vitest';
import { parseCairnCommand, REASON_LIMIT } from './cairn-command.js';

describe('parseCairnCommand', () => {
  it('reads pause, resume and abort, with or without a reason', () => {
    expect(parseCairnCommand('/cairn pause')).toEqual({ kind: 'steer', action: 'pause' });
    expect(parseCairnCommand('/cairn abort  error rate doubled on the canary ')).toEqual({
      kind: 'steer',
      action: 'abort',
      reason: 'error rate doubled on the canary',
    });
    expect(parseCairnCommand('  /Cairn RESUME\nlooks fine now')).toEqual({ kind: 'steer', action: 'resume' });
    expect(parseCairnCommand('/cairn pause\r\nmore text')).toEqual({ kind: 'steer', action: 'pause' });
  });

  it('leaves every other comment alone', () => {
    expect(parseCairnCommand('LGTM')).toBeUndefined();
    expect(parseCairnCommand('please /cairn pause')).toBeUndefined();
    expect(parseCairnCommand('/cairnpause')).toBeUndefined();
    expect(parseCairnCommand('> /cairn pause\nquoted')).toBeUndefined();
    expect(parseCairnCommand('')).toBeUndefined();
  });

  it('names an unknown command, and a bare /cairn, as unknown', () => {
    expect(parseCairnCommand('/cairn explode now')).toEqual({ kind: 'unknown', word: 'explode' });
    expect(parseCairnCommand('/cairn skip web-01')).toEqual({ kind: 'unknown', word: 'skip' });
    expect(parseCairnCommand('/cairn')).toEqual({ kind: 'unknown', word: '' });
  });

  it('keeps a reason to a line', () => {
    const command = parseCairnCommand(`/cairn pause ${'x'.repeat(2000)}`);
    expect(command?.kind === 'steer' && command.reason).toHaveLength(REASON_LIMIT);
  });
});
