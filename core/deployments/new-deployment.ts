import type { Host } from '../config-repo.js';
import type {
  DeploymentConfig,
  DeploymentRecord,
  DeploymentRelease,
  DeploymentStep,
} from '../records/deployment-record.js';
import { rolloutOf } from '../release-rollout.js';

export interface NewDeployment {
  readonly id: string;
  readonly service: string;
  readonly env: string;
  readonly release: DeploymentRelease;
  /** The configuration rolled out with it, when the environment's files ride the rollout. */
  readonly config?: DeploymentConfig;
  /** Only the configuration changed since the last deployment: no deploy command runs. */
  readonly configOnly?: boolean;
  /** The environment's hosts, in service.yaml order. */
  readonly hosts: readonly Pick<Host, 'host'>[];
  readonly previousVersion?: string;
  readonly now: Date;
  readonly actor: string;
  /**
   * Record it as already done: the first release the controller sees for an environment is what its
   * hosts run already, so nothing deploys by itself when Cairn first starts.
   */
  readonly alreadyDeployed?: boolean;
}

/** A deployment as created: its plan from the strategy (the same rollout the bot's plan comment shows). */
export function newDeployment(options: NewDeployment): DeploymentRecord {
  const rollout = rolloutOf(options.release.manifest.strategy, options.hosts);
  const steps: DeploymentStep[] = [
    ...(rollout.canary.length > 0 ? [{ kind: 'canary' as const, hosts: rollout.canary }] : []),
    ...rollout.batches.map((hosts) => ({ kind: 'batch' as const, hosts })),
  ];
  const at = options.now.toISOString();
  const state = options.alreadyDeployed ? 'succeeded' : 'pending';
  const reason = options.alreadyDeployed
    ? 'the first release seen for this environment: recorded as what its hosts run'
    : undefined;
  return {
    id: options.id,
    service: options.service,
    env: options.env,
    createdAt: at,
    release: options.release,
    ...(options.config ? { config: options.config } : {}),
    ...(options.configOnly ? { configOnly: true } : {}),
    ...(options.previousVersion !== undefined ? { previousVersion: options.previousVersion } : {}),
    plan: {
      steps,
      bakeSeconds: rollout.bakeSeconds,
      pauseAfterCanary: rollout.pauseAfterCanary,
      pauseBetweenBatchesSeconds: rollout.pauseBetweenBatchesSeconds,
      maxFailedHosts: rollout.maxFailedHosts,
      progressDeadlineSeconds: rollout.progressDeadlineSeconds,
    },
    state,
    ...(reason ? { reason } : {}),
    step: 0,
    failureAllowance: rollout.maxFailedHosts,
    skipped: [],
    controlSeq: -1,
    ...(options.alreadyDeployed ? { settled: true } : {}),
    transitions: [{ at, actor: options.actor, state, step: 0, ...(reason ? { reason } : {}) }],
  };
}
