/**
 * The agent's command launcher (see command-launcher.ts): a small process that starts the commands
 * its agent asks for and tells it, over the IPC channel, each one's pid, output and end. It holds
 * nothing else, so that each fork it makes copies little; it ends with its agent.
 */

import { spawn } from 'node:child_process';
import type { LauncherEvent, LaunchRequest } from './command-launcher.js';

const tell = (event: LauncherEvent) => process.send?.(event);

process.on('message', (request: LaunchRequest) => {
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
  const output = (chunk: Buffer) => tell({ type: 'output', id, chunk });
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
