import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './commands/validate.js';
import { formatHistory } from './history/format-history.js';
import { formatLogRecord } from './log-format.js';
import { formatStatus } from './status/format-status.js';
import { escapeControlCharacters } from './terminal-text.js';

/** Retitles the terminal (OSC 0 … BEL), then clears the screen (CSI 2 J). */
const HOSTILE = 'x\u001b]0;PWNED\u0007\u001b[2Jy.yaml';
const SHOWN = 'x\\e]0;PWNED\\x07\\e[2Jy.yaml';
/** Anything a terminal would act on rather than show. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const ACTS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('text from a repository on a terminal', () => {
  it('shows every control character as an escape and everything else as it is', () => {
    expect(escapeControlCharacters(HOSTILE)).toBe(SHOWN);
    expect(escapeControlCharacters('a\tb\nc\rd\u0000e\u007ff\u009bg\u202eh')).toBe(
      'a\\tb\\nc\\rd\\x00e\\x7ff\\x9bg\\u202eh',
    );
    expect(escapeControlCharacters('données/été.yaml — 配置 ✓')).toBe('données/été.yaml — 配置 ✓');
  });

  const refusal = {
    file: `services/api/config/${HOSTILE}`,
    line: 1,
    column: 1,
    severity: 'error' as const,
    rule: 'path/unsafe',
    message: `unsafe path: it contains the control or reserved character U+001B (${HOSTILE})`,
  };

  it('escapes file names and messages in cairn validate and cairn sync --once', () => {
    const line = formatDiagnostic(refusal.file, refusal);
    expect(line).not.toMatch(ACTS);
    expect(line).toBe(
      `services/api/config/${SHOWN}:1:1: error path/unsafe: unsafe path: it contains the control or reserved character U+001B (${SHOWN})`,
    );
  });

  it('escapes the head, a refused commit and what instances report in cairn status', () => {
    const commit = 'a'.repeat(40);
    const author = { name: `Mallory${HOSTILE}`, email: 'm@example.com' };
    const text = formatStatus({
      root: '/cairn',
      head: {
        seq: 1,
        commit,
        tree: commit,
        author,
        message: `Innocent ${HOSTILE}`,
        time: '2026-01-01T00:00:00Z',
        syncedAt: '2026-01-01T00:00:01Z',
        environments: {},
      },
      refused: {
        commit,
        tag: `v1${HOSTILE}`,
        branchHead: commit,
        refusedAt: '2026-01-01T00:00:02Z',
        errorCount: 1,
        diagnostics: [refusal],
      },
      syncers: [],
      environments: [],
    } as unknown as Parameters<typeof formatStatus>[0]);
    expect(text).not.toMatch(ACTS);
    expect(text).toContain(`Innocent ${SHOWN}`);
    expect(text).toContain(`Mallory${SHOWN}`);
    expect(text).toContain(`(tag v1${SHOWN})`);
    expect(text).toContain(`services/api/config/${SHOWN}:1:1`);
  });

  it('escapes commit subjects, authors and approval records in cairn history', () => {
    const text = formatHistory([
      {
        seq: 1,
        commit: 'b'.repeat(40),
        author: { name: `Mallory${HOSTILE}`, email: 'm@example.com' },
        subject: `Innocent ${HOSTILE}`,
        time: '2026-01-01T00:00:00Z',
        syncedAt: '2026-01-01T00:00:01Z',
        forced: false,
        changedCount: 1,
        environments: {},
        approvals: { kind: 'omitted', reason: `not JSON: ${HOSTILE}` },
        revert: `git revert ${'b'.repeat(40)}`,
      },
    ]);
    expect(text).not.toMatch(ACTS);
    expect(text).toContain(`Innocent ${SHOWN}`);
    expect(text).toContain(`not JSON: ${SHOWN}`);
  });

  it('escapes messages, fields and listed diagnostics in the log lines a person reads', () => {
    const line = formatLogRecord(
      {
        level: 40,
        time: 0,
        name: 'syncer',
        msg: `commit refused: ${HOSTILE}`,
        file: HOSTILE,
        errors: [{ file: HOSTILE, message: 'bad\u009b2J' }],
        err: { type: 'Error', message: HOSTILE, stack: `Error: ${HOSTILE}\n    at here` },
      },
      { color: true, stacks: true },
    );
    // The formatter's own colours are the only escape sequences left.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the formatter's own colours
    const withoutOwnColours = line.replace(/\u001b\[[0-9;]*m/g, '');
    expect(withoutOwnColours).not.toMatch(ACTS);
    expect(withoutOwnColours).toContain(`commit refused: ${SHOWN}`);
    expect(withoutOwnColours).toContain(`file=${SHOWN}`);
    expect(withoutOwnColours).toContain('\\x9b2J');
    expect(withoutOwnColours).toContain(`Error: ${SHOWN}\n        at here`);
  });
});
