import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_REPO, createTestApp, type TestApp } from '../../test/bot-e2e/test-app.js';
import { GitHubError } from '../errors.js';
import type { AppliedCheck, Participant } from './evaluate-applied.js';
import { AppliedCheckPublisher } from './publish-applied-check.js';
import { renderAppliedCheck } from './render-applied.js';
import { RepositoryGitHub } from './repository-github.js';

/*
 * Posting the applied checks through the facade to the emulated GitHub (every request checked
 * against GitHub's OpenAPI description): created once, updated in place, a conclusion kept, runs
 * found again after a restart, and the installation found by the app itself.
 */

let app: TestApp;
let repository: RepositoryGitHub;

beforeEach(async () => {
  app = await createTestApp();
  const [owner, repo] = CONFIG_REPO.split('/') as [string, string];
  repository = new RepositoryGitHub(app.probot, { owner, repo });
});

afterEach(async () => {
  app.github.assertNoViolations();
  await app.close();
});

const host = (name: string, state: Participant['state']): Participant => ({ kind: 'host', name, state });

function check(commit: string, verdict: AppliedCheck['verdict'], participants: Participant[]): AppliedCheck {
  return {
    name: 'cairn / applied (prod)',
    commit,
    env: 'prod',
    mirroredAt: '2024-12-09T10:00:00Z',
    deadline: '2024-12-09T10:30:00.000Z',
    services: [{ service: 'edge-gateway', manifest: '1'.repeat(40), participants }],
    verdict,
    settled: verdict.status === 'completed' && !participants.some((p) => p.state === 'waiting'),
  };
}

const publishWith = (publisher: AppliedCheckPublisher, c: AppliedCheck) =>
  publisher.publish(c, renderAppliedCheck(c, 30 * 60_000));

const FAILURE = { status: 'completed', conclusion: 'failure', reason: 'rejected' } as const;

describe('AppliedCheckPublisher', () => {
  it('creates a run once, however many evaluations post at the same time, then updates it', async () => {
    const commit = app.repo.ref('main') as string;
    const publisher = new AppliedCheckPublisher(() => repository.github());
    const waiting = check(commit, { status: 'in_progress' }, [
      host('edge-01', 'applied'),
      host('edge-02', 'waiting'),
    ]);
    const outcomes = await Promise.all([publishWith(publisher, waiting), publishWith(publisher, waiting)]);
    expect(outcomes).toEqual(['created', 'unchanged']);
    const done = check(commit, { status: 'completed', conclusion: 'success', reason: 'applied' }, [
      host('edge-01', 'applied'),
      host('edge-02', 'applied'),
    ]);
    expect(await publishWith(publisher, done)).toBe('updated');
    expect(publisher.isDone(done)).toBe(true);
    expect(await publishWith(publisher, waiting)).toBe('final');
    const runs = app.repo.checkRuns({ name: 'cairn / applied (prod)', headSha: commit });
    expect(runs.map((r) => [r.status, r.conclusion])).toEqual([['completed', 'success']]);
    // Found once, as the app itself; the installation acts from then on.
    expect(
      app.github.requests.filter((r) => r.operationId === 'apps/get-repo-installation').map((r) => r.status),
    ).toEqual([200]);
  });

  it('finds the run a restarted bot made, keeps a failure a failure and updates its table', async () => {
    const commit = app.repo.ref('main') as string;
    const rejectedFirst = check(commit, FAILURE, [host('edge-01', 'waiting'), host('edge-02', 'rejected')]);
    expect(await publishWith(new AppliedCheckPublisher(() => repository.github()), rejectedFirst)).toBe(
      'created',
    );

    const restarted = new AppliedCheckPublisher(() => repository.github());
    const later = check(commit, FAILURE, [host('edge-01', 'applied'), host('edge-02', 'rejected')]);
    expect(await publishWith(restarted, later)).toBe('updated');
    expect(restarted.isDone(later)).toBe(true);
    const runs = app.repo.checkRuns({ name: 'cairn / applied (prod)', headSha: commit });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.conclusion).toBe('failure');
    expect(runs[0]?.output.summary).toContain('| edge-gateway | host edge-01 | applied |');
    // The update after the conclusion sent the words alone: nothing reopened or re-concluded the run.
    const update = app.github.requestsTo('PATCH', /\/check-runs\/\d+$/).at(-1)?.requestBody as Record<
      string,
      unknown
    >;
    expect(Object.keys(update)).toEqual(['output']);
  });

  it('never reopens a concluded run, whatever a later evaluation says', async () => {
    const commit = app.repo.ref('main') as string;
    const timedOut = check(commit, { status: 'completed', conclusion: 'timed_out', reason: 'deadline' }, [
      host('edge-01', 'waiting'),
    ]);
    expect(await publishWith(new AppliedCheckPublisher(() => repository.github()), timedOut)).toBe('created');
    const restarted = new AppliedCheckPublisher(() => repository.github());
    expect(
      await publishWith(restarted, check(commit, { status: 'in_progress' }, [host('edge-01', 'waiting')])),
    ).toBe('final');
    expect(app.repo.checkRuns({ name: 'cairn / applied (prod)', headSha: commit })[0]?.conclusion).toBe(
      'timed_out',
    );
  });

  it('gives up on a commit GitHub does not know, once', async () => {
    const publisher = new AppliedCheckPublisher(() => repository.github());
    const unknown = check('f'.repeat(40), { status: 'in_progress' }, [host('edge-01', 'waiting')]);
    await expect(publishWith(publisher, unknown)).rejects.toMatchObject({ code: 'GITHUB_REJECTED' });
    expect(await publishWith(publisher, unknown)).toBe('refused');
    expect(publisher.isDone(unknown)).toBe(true);
  });
});

describe('RepositoryGitHub', () => {
  it('says how to fix a repository the app is not installed on', async () => {
    const elsewhere = new RepositoryGitHub(app.probot, { owner: 'northwind', repo: 'not-installed' });
    const error = await elsewhere.github().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ code: 'GITHUB_NOT_FOUND' });
    expect((error as Error).message).toMatch(
      /the app is not installed on northwind\/not-installed .*install it on that repository .* or correct CAIRN_REPOSITORY/,
    );
  });
});
