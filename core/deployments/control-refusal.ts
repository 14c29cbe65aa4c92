import type { SteeringAction } from '../manifests.js';
import type { DeploymentState } from '../records/deployment-record.js';

/**
 * Why an action cannot change a deployment in this state, or undefined when it can: checked where
 * an action is recorded (the command line, a comment on the release's pull request), so nobody
 * records what the controller would ignore.
 */
export function controlRefusal(action: SteeringAction, state: DeploymentState): string | undefined {
  const over = state === 'aborted' || state === 'superseded';
  switch (action) {
    case 'pause':
      return state === 'pending' || state === 'progressing'
        ? undefined
        : 'only a deployment in progress pauses';
    case 'resume':
      return state === 'paused' ? undefined : 'only a paused deployment resumes';
    case 'abort':
      return state === 'succeeded' || state === 'failed' || over
        ? 'it is over already; a new release (or cairn rollback) changes what runs'
        : undefined;
    case 'skip':
      return over ? 'it starts no more tasks' : undefined;
    case 'retry':
      return over
        ? 'it starts no more tasks; a new release (or cairn rollback) changes what runs'
        : undefined;
  }
}
