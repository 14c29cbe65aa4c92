import { describe, expect, it } from 'vitest';
import { CHECK_OUTPUT_LIMIT } from '../text-limit.js';
import type { AppliedCheck, Participant } from './evaluate-applied.js';
import { formatDuration, renderAppliedCheck } from './render-applied.js';

const COMMIT = 'c0ffee1234567890c0ffee1234567890c0ffee12';
const MANIFEST = '1'.repeat(40);
const DEADLINE = 30 * 60_000;

function check(
  verdict: AppliedCheck['verdict'],
  participants: Participant[],
  extra: Partial<AppliedCheck> = {},
) {
  return {
    name: 'cairn / applied (prod)',
    commit: COMMIT,
    env: 'prod',
    mirroredAt: '2024-12-09T10:00:00Z',
    deadline: '2024-12-09T10:30:00.000Z',
    services: [{ service: 'edge-gateway', manifest: MANIFEST, participants }],
    verdict,
    settled: verdict.status === 'completed',
    ...extra,
  } satisfies AppliedCheck;
}

const host = (name: string, state: Participant['state'], detail?: string): Participant => ({
  kind: 'host',
  name,
  state,
  ...(detail ? { detail } : {}),
});

describe('renderAppliedCheck', () => {
  it('says who it waits for while in progress', () => {
    const report = renderAppliedCheck(
      check({ status: 'in_progress' }, [
        host('edge-01', 'applied'),
        host('edge-02', 'waiting', 'no agent reports'),
      ]),
      DEADLINE,
    );
    expect(report.title).toBe('1 of 2 applied in prod; waiting for edge-02');
    expect(report.summary).toContain('**Waiting for 1 of 2.**');
    expect(report.summary).toContain(
      'times out at 2024-12-09T10:30:00.000Z (30 min after the commit was mirrored)',
    );
    expect(report.summary).toContain('Commit `c0ffee1` changed the files of **edge-gateway** in `prod`');
    // Waiting first, applied last.
    expect(report.summary).toContain(
      [
        '| service | host or instance | state | |',
        '| --- | --- | --- | --- |',
        '| edge-gateway | host edge-02 | waiting | no agent reports |',
        '| edge-gateway | host edge-01 | applied |  |',
      ].join('\n'),
    );
  });

  it('names each outcome in the title', () => {
    const applied = [host('edge-01', 'applied'), host('edge-02', 'applied')];
    const done = (
      conclusion: 'success' | 'neutral' | 'timed_out',
      reason: 'applied' | 'nobody' | 'deadline',
    ) => ({ status: 'completed', conclusion, reason }) as const;
    expect(renderAppliedCheck(check(done('success', 'applied'), applied), DEADLINE).title).toBe(
      'Applied in prod: 2 hosts',
    );
    expect(renderAppliedCheck(check(done('neutral', 'nobody'), []), DEADLINE).title).toBe(
      'Nothing in prod applies it: no host is listed and no instance is registered',
    );
    const timedOut = renderAppliedCheck(
      check(done('timed_out', 'deadline'), [
        host('edge-01', 'applied'),
        host('edge-02', 'waiting', 'applying'),
      ]),
      DEADLINE,
    );
    expect(timedOut.title).toBe('Timed out in prod: 1 of 2 had not applied it after 30 min');
    expect(timedOut.summary).toContain('**edge-02** had not reported it applied');
  });

  it('says which later commit superseded it', () => {
    const report = renderAppliedCheck(
      {
        ...check({ status: 'completed', conclusion: 'neutral', reason: 'superseded' }, [
          host('edge-01', 'applied'),
          host('edge-02', 'superseded', 'applying'),
        ]),
        services: [
          {
            service: 'edge-gateway',
            manifest: MANIFEST,
            supersededBy: { commit: 'beef'.repeat(10), tag: 'v2.5.0', removed: false },
            participants: [host('edge-01', 'applied'), host('edge-02', 'superseded', 'applying')],
          },
        ],
      },
      DEADLINE,
    );
    expect(report.title).toBe('Superseded in prod by beefbee: 1 of 2 had applied it');
    expect(report.summary).toContain(
      '**Superseded.** `beefbee` (tag `v2.5.0`) changed **edge-gateway** in `prod` again',
    );
  });

  it('lists each rejection with its step, exit and output, escaped so nothing in it becomes markup', () => {
    const output = 'line 1\n```\n<script>alert(1)</script> | @everyone\nnginx: [emerg] bad `directive`\n';
    const rejected: Participant = {
      kind: 'host',
      name: 'edge|02',
      state: 'rejected',
      detail: 'check exited 1: nginx: [emerg] bad `directive`',
      refused: { how: 'check exited 1', command: 'nginx -t | tee `log`', output },
    };
    const report = renderAppliedCheck(
      check({ status: 'completed', conclusion: 'failure', reason: 'rejected' }, [
        rejected,
        host('edge-01', 'waiting', 'applying'),
      ]),
      DEADLINE,
    );
    expect(report.title).toBe('Rejected in prod by edge|02');
    expect(report.summary).toContain('**Rejected by 1 host.**');
    expect(report.summary).toContain('1 still waiting: this check is updated as they report.');
    expect(report.summary).toContain(
      [
        '### Rejections',
        '',
        '**edge\\|02** · edge-gateway · check exited 1 · `` nginx -t | tee `log` ``',
        '',
        '````text',
        'line 1',
        '```',
        '<script>alert(1)</script> | @everyone',
        'nginx: [emerg] bad `directive`',
        '````',
      ].join('\n'),
    );
    expect(report.summary).toContain(
      '| edge-gateway | host edge\\|02 | **rejected** | check exited 1\\: nginx\\: \\[emerg\\] bad \\`directive\\` |',
    );
    // The table is one row per participant: the escaped pipe did not split the cell.
    const row = report.summary.split('\n').find((line) => line.includes('host edge\\|02')) ?? '';
    expect(row.split(/(?<!\\)\|/)).toHaveLength(6);
  });

  it('stays within what GitHub accepts, however many hosts there are', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      host(`edge-${String(i).padStart(4, '0')}.dc1.northwind.internal`, 'waiting', 'no agent reports'),
    );
    const report = renderAppliedCheck(check({ status: 'in_progress' }, many), DEADLINE);
    expect(report.summary.length).toBeLessThanOrEqual(CHECK_OUTPUT_LIMIT);
    expect(report.summary).toContain('4500 more; `cairn status` lists every host and instance');
    expect(report.title.length).toBeLessThanOrEqual(200);
  });
});

describe('formatDuration', () => {
  it('reads as a person would say it', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(30 * 60_000)).toBe('30 min');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
    expect(formatDuration(90 * 60_000)).toBe('1.5 h');
  });
});
