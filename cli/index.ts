// The public surface of cli/: every exported name is listed here on purpose.
export type { CommandContext, CommandIo } from './io.js';
export { EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK, processIo } from './io.js';
export type { RunOptions } from './program.js';
export { runCli } from './program.js';
export type { AptStatus, SystemPackages } from './system-packages.js';
