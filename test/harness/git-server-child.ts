/**
 * The process `startGitServerProcess` forks: a `startGitServer` that reports to its parent over IPC
 * and stops (removing its repositories) when told, or when the parent goes away.
 */

import { type GitServerOptions, startGitServer } from './git-server.js';
import type { GitServerProcessCommand, GitServerProcessMessage } from './git-server-process.js';

const tell = (message: GitServerProcessMessage) => process.send?.(message);
const options = JSON.parse(process.argv[2] ?? '{}') as GitServerOptions;
const server = await startGitServer({ ...options, onRequest: () => tell({ type: 'request' }) });

async function stop(): Promise<void> {
  await server.close();
  process.exit(0);
}
process.on('message', (command: GitServerProcessCommand) => {
  if (command.type === 'available') server.setAvailable(command.available);
  else void stop();
});
process.on('disconnect', () => void stop());
tell({ type: 'ready', baseUrl: server.baseUrl, root: server.root });
