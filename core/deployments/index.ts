export type { Advance, DeploymentView, NumberedControl, TaskWrite } from './advance-deployment.js';
export {
  advanceDeployment,
  CONTROLLER_ACTOR,
  supersedeDeployment,
} from './advance-deployment.js';
export { configChanged, configToRollOut, hostAssignmentsOf, pinnedSnapshotsOf } from './config-rollout.js';
export { controlRefusal } from './control-refusal.js';
export type { ConsumerHost } from './drain-applied.js';
export { consumerHostDrained } from './drain-applied.js';
export type { DrainAssignmentInput } from './drain-assignments.js';
export { drainAssignmentsOf } from './drain-assignments.js';
export { drainingHostsOf, dueStepHosts } from './draining-hosts.js';
export type { NewDeployment } from './new-deployment.js';
export { newDeployment } from './new-deployment.js';
export type { SteeringGrant, SteeringGrants, SteeringRefusal } from './steering-policy.js';
export { steeringGrantsOf, steeringRefusal } from './steering-policy.js';
