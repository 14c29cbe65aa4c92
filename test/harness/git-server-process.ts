import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killOnExit, LocalServerError } from '../../local/index.js';
import type { GitServer, GitServerOptions } from './git-server.js';

/** What the server process tells its parent. */
export type GitServerProcessMessage =
  | { readonly type: 'ready'; readonly baseUrl: string; readonly root: string }
  | { readonly type: 'request' };

/** What the parent tells the server process. */
export type GitServerProcessCommand =
  | { readonly type: 'available'; readonly available: boolean }
  | { readonly type: 'close' };

const CHILD = fileURLToPath(new URL('./git-server-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * `startGitServer` in a process of its own, as a git host is: its HTTP handling and the spawns of
 * `git http-backend` (a fork blocks the forking thread) stay off the caller's event loop, so a
 * benchmark measures the syncer and not the server it fetches from.
 */
export async function startGitServerProcess(options: GitServerOptions = {}): Promise<GitServer> {
  const child = fork(CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child);
  let received = 0;
  child.on('message', (message: GitServerProcessMessage) => {
    if (message.type === 'request') received++;
  });
  const ready = await new Promise<Extract<GitServerProcessMessage, { type: 'ready' }>>((resolve, reject) => {
    const onMessage = (message: GitServerProcessMessage) => {
      if (message.type !== 'ready') return;
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(
        new LocalServerError('SERVER_CLOSED', `the git server process exited (${code}) before it served`),
      );
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  const send = (command: GitServerProcessCommand) => {
    if (child.connected) child.send(command);
  };
  let closing: Promise<void> | undefined;
  return {
    baseUrl: ready.baseUrl,
    root: ready.root,
    url: (repo) => `${ready.baseUrl}/${repo}.git`,
    requests: () => received,
    setAvailable: (available) => send({ type: 'available', available }),
    close: () => {
      closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        send({ type: 'close' });
        await exited;
      })();
      return closing;
    },
  };
}
