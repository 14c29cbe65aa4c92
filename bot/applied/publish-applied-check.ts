import { GitHubError } from '../errors.js';
import type { CheckRunUpdate, GitHub } from '../github.js';
import type { AppliedCheck } from './evaluate-applied.js';
import type { AppliedReport } from './render-applied.js';

/** What became of one evaluation of a check on GitHub. */
export type PublishOutcome =
  /** The run was created. */
  | 'created'
  /** The run was updated with a new state or new words. */
  | 'updated'
  /** The run already says exactly this. */
  | 'unchanged'
  /** The run is concluded for good: nothing more is posted. */
  | 'final'
  /** GitHub refuses a run on this commit (it does not know it): not tried again. */
  | 'refused';

interface KnownRun {
  readonly id: number;
  /** Set once GitHub has the run completed; never changed afterwards. */
  conclusion: string | undefined;
  /** The last update sent, to send nothing when nothing changed. */
  posted: string | undefined;
  /** Nothing more will be posted: concluded for good, or a failure whose others all reported. */
  done: boolean;
}

/**
 * Posts the "cairn / applied (<env>)" runs: each created once, then updated. The run of a check is
 * looked up on GitHub the first time (a restarted bot finds the runs it made), then remembered; two
 * evaluations of one check never post at once. A concluded run keeps its conclusion: a failure is
 * still updated as the others report, any other conclusion is final.
 */
export class AppliedCheckPublisher {
  private readonly github: () => Promise<GitHub>;
  private readonly runs = new Map<string, KnownRun | 'refused'>();
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(github: () => Promise<GitHub>) {
    this.github = github;
  }

  /** Whether nothing more will be posted for this check. */
  isDone(check: AppliedCheck): boolean {
    const run = this.runs.get(keyOf(check));
    return run === 'refused' || run?.done === true;
  }

  /** Forgets the runs of checks no longer followed, so memory stays bounded. */
  retain(checks: readonly AppliedCheck[]): void {
    const keep = new Set(checks.map(keyOf));
    for (const key of this.runs.keys()) if (!keep.has(key)) this.runs.delete(key);
  }

  publish(check: AppliedCheck, report: AppliedReport): Promise<PublishOutcome> {
    const key = keyOf(check);
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.post(key, check, report));
    this.inFlight.set(key, next);
    const forget = () => {
      if (this.inFlight.get(key) === next) this.inFlight.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  private async post(key: string, check: AppliedCheck, report: AppliedReport): Promise<PublishOutcome> {
    const known = this.runs.get(key);
    if (known === 'refused') return 'refused';
    if (known?.done) return 'final';
    const github = await this.github();
    const output = { title: report.title, summary: report.summary };
    const verdict = check.verdict;
    const update: CheckRunUpdate =
      verdict.status === 'in_progress'
        ? { status: 'in_progress', output }
        : { conclusion: verdict.conclusion, output };
    let run = known;
    if (!run) {
      const found = await github.findCheckRun(check.commit, check.name, check.name);
      if (!found) {
        let id: number;
        try {
          id = await github.createCheckRun({
            name: check.name,
            headSha: check.commit,
            externalId: check.name,
            ...update,
          });
        } catch (error) {
          // 422: GitHub knows no such commit in this repository. Retrying would not change that.
          if (error instanceof GitHubError && error.code === 'GITHUB_REJECTED') this.runs.set(key, 'refused');
          throw error;
        }
        const conclusion = verdict.status === 'completed' ? verdict.conclusion : undefined;
        this.runs.set(key, {
          id,
          conclusion,
          posted: JSON.stringify(update),
          done: conclusion !== undefined && (conclusion !== 'failure' || check.settled),
        });
        return 'created';
      }
      run = {
        id: found.id,
        conclusion: found.completed ? (found.conclusion ?? 'none') : undefined,
        posted: undefined,
        done: found.completed && found.conclusion !== 'failure',
      };
      this.runs.set(key, run);
      if (run.done) return 'final';
    }
    let sent: CheckRunUpdate;
    if (run.conclusion === undefined) sent = update;
    else {
      // A failure stays a failure; its table keeps up with the others while they report.
      if (verdict.status !== 'completed' || verdict.conclusion !== 'failure') {
        run.done = true;
        return 'final';
      }
      sent = { output };
    }
    const fingerprint = JSON.stringify(sent);
    if (run.posted === fingerprint) {
      if (run.conclusion !== undefined && check.settled) run.done = true;
      return 'unchanged';
    }
    await github.updateCheckRun(run.id, sent);
    run.posted = fingerprint;
    if (sent.conclusion !== undefined) run.conclusion = sent.conclusion;
    if (run.conclusion !== undefined && (run.conclusion !== 'failure' || check.settled)) run.done = true;
    return 'updated';
  }
}

function keyOf(check: AppliedCheck): string {
  return `${check.commit} ${check.name}`;
}
