import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { killOnExit } from '../local/index.js';

/** What an agent-hosts process is given: the hosts it plays, under `<scratch>/<host>`. */
export interface AgentHostsOptions {
  readonly zk: string;
  readonly hosts: readonly string[];
  readonly scratch: string;
  /** The `service/env` key every host must have applied before the process says it is ready. */
  readonly service: string;
}

/** What an agent-hosts process tells its parent; `at` is on the machine's clock (epoch ms, fractional). */
export type AgentHostsMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'reload'; readonly host: string; readonly commit: string; readonly at: number };

export type AgentHostsCommand = { readonly type: 'close' };

const CHILD = fileURLToPath(new URL('./agent-hosts-child.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** A process playing some of the bench's hosts. */
export interface AgentHosts {
  readonly process: ChildProcess;
  /** Resolves when every agent of the process applied the first commit. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Forks a process that runs one agent per host of `options.hosts` (agents in a process of their
 * own, as on hosts: their file writes, fsyncs and the fork of each reload's shell stay off the
 * bench's event loop and off the other processes' thread pools). `onReload` hears of every reload
 * an agent starts.
 */
export function startAgentHosts(
  options: AgentHostsOptions,
  onReload: (host: string, commit: string, at: number) => void,
): AgentHosts {
  const child = fork(CHILD, [JSON.stringify(options)], {
    // CAIRN_BENCH_CPU_PROF=<dir>: a CPU profile of each agents' process, written there when it exits.
    execArgv: [
      '--import',
      TSX,
      ...(process.env.CAIRN_BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CAIRN_BENCH_CPU_PROF}`]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child);
  const ready = new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`an agent-hosts process exited (${code}) before its agents applied the first commit`));
    child.once('exit', onExit);
    child.on('message', (message: AgentHostsMessage) => {
      if (message.type === 'reload') onReload(message.host, message.commit, message.at);
      else {
        child.off('exit', onExit);
        resolve();
      }
    });
  });
  return {
    process: child,
    ready,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      if (child.connected) child.send({ type: 'close' } satisfies AgentHostsCommand);
      await exited;
    },
  };
}
