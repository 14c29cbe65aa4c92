// Recipes over ZkSession and SessionKeeper that every part shares instead of writing its own loop.
export type { BackoffOptions } from './backoff.js';
export { Backoff } from './backoff.js';
export type { ChildrenCacheOptions } from './children-cache.js';
export { ChildrenCache } from './children-cache.js';
export type { CoalescingTriggerOptions } from './coalescing-trigger.js';
export { CoalescingTrigger } from './coalescing-trigger.js';
export type { EnvironmentWatchEvents, EnvironmentWatchOptions } from './environment-watch.js';
export { EnvironmentWatch } from './environment-watch.js';
export type { EphemeralNodeOptions } from './ephemeral-node.js';
export { EphemeralNode, EphemeralNodeConflictError } from './ephemeral-node.js';
export { FencedWriter, LeadershipLostError } from './fenced-writer.js';
export type {
  LeaderRoleEvents,
  LeaderRoleOptions,
  LeaderRoleState,
  LeaderTerm,
  Reconciler,
} from './leader-role.js';
export { LeaderRole } from './leader-role.js';
export type { CachedNode, NodeCacheOptions } from './node-cache.js';
export { NodeCache } from './node-cache.js';
export type { WatchedChildrenOptions } from './watched-children.js';
export { WatchedChildren } from './watched-children.js';
export type { WatchedReadOptions } from './watched-read.js';
export { WatchedRead } from './watched-read.js';
