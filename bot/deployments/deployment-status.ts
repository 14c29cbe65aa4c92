import type { DeploymentRecord } from '../../core/index.js';

/** The states of a GitHub deployment status that the bot posts. */
export type GitHubDeploymentState = 'queued' | 'in_progress' | 'success' | 'failure' | 'inactive';

/** What GitHub shows of a Cairn deployment: its state and a line (GitHub keeps 140 characters). */
export interface DeploymentStatusUpdate {
  readonly state: GitHubDeploymentState;
  readonly description: string;
  /** Nothing will change any more: the status is the last one posted. */
  readonly final: boolean;
}

export const DESCRIPTION_LIMIT = 140;

/**
 * The GitHub deployment status of a Cairn deployment. A paused deployment is still in progress on
 * GitHub (its line says why it waits); a superseded one is inactive, as GitHub marks an old
 * deployment that a newer one replaced; an aborted one failed to roll out.
 */
export function deploymentStatusOf(d: DeploymentRecord): DeploymentStatusUpdate {
  const steps = d.plan.steps.length;
  const step =
    steps === 0
      ? ''
      : `${d.plan.steps[d.step]?.kind === 'canary' ? 'canary' : 'batch'} (step ${d.step + 1} of ${steps})`;
  const why = d.reason ? `: ${d.reason}` : '';
  const version = d.release.version;
  switch (d.state) {
    case 'pending':
      return status('queued', `${version} waits to start`, false);
    case 'progressing':
      return status('in_progress', `${version}: ${step || 'rolling out'}`, false);
    case 'paused':
      return status(
        'in_progress',
        `${version} paused (${d.pauseReason ?? 'manual'}) at ${step || 'the start'}`,
        false,
      );
    case 'succeeded':
      return status('success', `${version} is on every host${why}`, true);
    case 'failed':
      return status('failure', `${version} failed${why}`, true);
    case 'aborted':
      return status('failure', `${version} aborted${why}`, true);
    case 'superseded':
      return status('inactive', `${version} superseded${why}`, true);
  }
}

function status(state: GitHubDeploymentState, description: string, final: boolean): DeploymentStatusUpdate {
  const text =
    description.length > DESCRIPTION_LIMIT ? `${description.slice(0, DESCRIPTION_LIMIT - 1)}…` : description;
  return { state, description: text, final };
}
