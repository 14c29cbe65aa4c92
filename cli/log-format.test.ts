import { describe, expect, it } from 'vitest';
import type { CommandIo } from './io.js';
import { formatLogRecord } from './log-format.js';
import { createLogger, logFormatOf } from './logger.js';

/** 14:02:07.512 today, local time, as pino writes it (ms since the epoch). */
const at = new Date(2026, 0, 15, 14, 2, 7, 512).getTime();
const commit = '3f9c2e1d0b7a4c6e8f1a2b3c4d5e6f708192a3b4';

describe('the log line a person reads', () => {
  it('gives time, level, logger and message, then fields as key=value with commits shortened', () => {
    const line = formatLogRecord(
      {
        level: 30,
        time: at,
        pid: 4425,
        hostname: 'vm',
        name: 'syncer',
        replica: 'vm:4425',
        branch: 'main',
        commit,
        environments: { prod: { commit } },
        creates: 57,
        staged: false,
        timings: { fetchMs: 5.480367, writeMs: 212 },
        msg: 'commit mirrored',
      },
      { color: false },
    );
    expect(line).toBe(
      '14:02:07.512 INFO  syncer commit mirrored  commit=3f9c2e1 environments.prod.commit=3f9c2e1 creates=57 staged=false timings.fetchMs=5.5 timings.writeMs=212',
    );
  });

  it('quotes values with spaces and shows an error as its code and message', () => {
    const line = formatLogRecord(
      {
        level: 40,
        time: at,
        name: 'syncer',
        msg: 'sync failed; retrying',
        retryInMs: 2000,
        err: {
          type: 'GitUnreachableError',
          code: 'GIT_UNREACHABLE',
          message: 'cannot reach x',
          stack: 'Error…',
        },
        address: { host: '127.0.0.1', port: 8080 },
        reason: 'bad signature',
      },
      { color: false },
    );
    expect(line).toBe(
      '14:02:07.512 WARN  syncer sync failed; retrying  retryInMs=2000 err="GIT_UNREACHABLE: cannot reach x" address.host=127.0.0.1 address.port=8080 reason="bad signature"',
    );
  });

  it('puts each record of a list on an indented line of its own, and a stack when asked', () => {
    const line = formatLogRecord(
      {
        level: 50,
        time: at,
        name: 'syncer',
        msg: 'commit refused: not mirrored',
        err: {
          type: 'CommitRefusedError',
          message: 'refused',
          stack: 'CommitRefusedError: refused\n    at x',
        },
        errors: [
          { file: 'cairn.yaml', line: 2, rule: 'schema/required', message: 'missing environments' },
          { file: 'policy.yaml', line: 1, rule: 'yaml/syntax', message: 'bad' },
        ],
      },
      { color: false, stacks: true },
    );
    expect(line.split('\n')).toEqual([
      '14:02:07.512 ERROR syncer commit refused: not mirrored  err="CommitRefusedError: refused"',
      '    CommitRefusedError: refused',
      '        at x',
      '    errors[0].file=cairn.yaml errors[0].line=2 errors[0].rule=schema/required errors[0].message="missing environments"',
      '    errors[1].file=policy.yaml errors[1].line=1 errors[1].rule=yaml/syntax errors[1].message=bad',
    ]);
  });

  it('colours the level on a terminal', () => {
    const line = formatLogRecord({ level: 50, time: at, msg: 'x' }, { color: true });
    expect(line).toContain('\x1b[31;1mERROR\x1b[0m');
  });
});

describe('the log format', () => {
  const io = (terminal: boolean, env: NodeJS.ProcessEnv = {}): CommandIo & { written: string[] } => {
    const written: string[] = [];
    return { stdout: () => {}, stderr: (text) => written.push(text), cwd: '/', env, terminal, written };
  };

  it('is pretty on a terminal and JSON lines elsewhere, unless CAIRN_LOG_FORMAT says otherwise', () => {
    expect(logFormatOf(io(true))).toBe('pretty');
    expect(logFormatOf(io(false))).toBe('json');
    expect(logFormatOf(io(true, { CAIRN_LOG_FORMAT: 'json' }))).toBe('json');
    expect(logFormatOf(io(false, { CAIRN_LOG_FORMAT: 'pretty' }))).toBe('pretty');
    expect(() => logFormatOf(io(false, { CAIRN_LOG_FORMAT: 'xml' }))).toThrow(
      'CAIRN_LOG_FORMAT "xml" is not a log format: use json or pretty',
    );
  });

  it('is what every logger writes, one line per record', () => {
    const json = io(false);
    createLogger(json, 'syncer').info({ commit }, 'commit mirrored');
    expect(JSON.parse(json.written.join(''))).toMatchObject({
      name: 'syncer',
      commit,
      msg: 'commit mirrored',
    });

    const pretty = io(true, { NO_COLOR: '1' });
    createLogger(pretty, 'syncer').warn({ commit }, 'commit refused');
    expect(pretty.written).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}syncer commit refused {2}commit=3f9c2e1\n$/),
    ]);
  });

  it('censors fields that hold secrets, wherever they are in a record', () => {
    const json = io(false);
    createLogger(json, 'syncer').warn(
      {
        config: { webhookSecret: 'hook-s3cret', gitCredentials: { username: 'u', password: 'tok3n' } },
        request: { headers: { authorization: 'Basic dTp0b2szbg==' } },
        token: 'tok3n',
      },
      'settings',
    );
    const line = json.written.join('');
    expect(JSON.parse(line)).toMatchObject({
      config: { webhookSecret: '[redacted]', gitCredentials: '[redacted]' },
      request: { headers: { authorization: '[redacted]' } },
      token: '[redacted]',
    });
    expect(line).not.toMatch(/hook-s3cret|tok3n|dTp0b2szbg/);
  });

  it('refuses a level pino does not know, naming the variable', () => {
    expect(() => createLogger(io(false, { CAIRN_LOG_LEVEL: 'loud' }), 'syncer')).toThrow(
      /CAIRN_LOG_LEVEL "loud"/,
    );
  });
});
