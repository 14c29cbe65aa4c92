// @ts-check
/**
 * The agent's command launcher (see command-launcher.ts): a small process that starts the commands
 * its agent asks for and tells it, over the IPC channel, each one's pid, output and end. It holds
 * nothing else, so that each fork it makes copies little; it ends with its agent. It is plain
 * JavaScript, checked by TypeScript through its JSDoc, so that it runs without a loader from the
 * sources as from the build: under one (tsx), a launcher took 76 MB instead of 42, and each fork
 * copies what the process maps.
 */

import { spawn } from 'node:child_process';

/** @import { LauncherEvent, LaunchRequest } from './command-launcher.js' */

/** @param {LauncherEvent} event */
const tell = (event) => process.send?.(event);

process.on('message', (/** @type {LaunchRequest} */ request) => {
  const child = spawn('sh', ['-c', request.command], {
    cwd: request.cwd,
    env: { ...process.env, ...request.env },
    // libuv drops the supplementary groups (setgroups(0)) before setgid and setuid.
    ...(request.uid !== undefined && request.gid !== undefined ? { uid: request.uid, gid: request.gid } : {}),
    // A process group of its own: the agent ends everything the command started at its deadline.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { id } = request;
  if (child.pid !== undefined) tell({ type: 'started', id, pid: child.pid });
  /** @param {Buffer} chunk */
  const output = (chunk) => tell({ type: 'output', id, chunk });
  child.stdout?.on('data', output);
  child.stderr?.on('data', output);
  child.once('error', (error) =>
    tell({ type: 'ended', id, exitCode: null, signal: null, failure: error.message }),
  );
  child.once('close', (exitCode, signal) => tell({ type: 'ended', id, exitCode, signal }));
});
// The agent is gone (ended, or killed): so is the reason to be here. Commands under way go on.
process.on('disconnect', () => process.exit(0));
tell({ type: 'ready' });
