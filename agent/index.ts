// The public surface of agent/: every exported name is listed here on purpose.
export type { AgentConfig, RawAgentSettings } from './agent-config.js';
export { AGENT_ENV, resolveAgentConfig } from './agent-config.js';
export { AgentDaemon } from './agent-daemon.js';
export { OwnerNotFoundError, UnsafeTargetError } from './errors.js';
export { type CommandRunner, rehearseCommand } from './run-command.js';
