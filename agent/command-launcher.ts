import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A command for the launcher to start: `sh -c command`, in a process group of its own. */
export interface LaunchRequest {
  readonly id: number;
  readonly command: string;
  readonly cwd: string;
  /**
   * What the command's environment adds to the launcher's own, which is the agent's (a launcher
   * inherits it when the agent starts it; the agent never changes its own): reading the agent's
   * whole environment for each command cost it as much as the rest of the launch.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly uid?: number;
  readonly gid?: number;
}

/** What the launcher tells of a command it started: its pid, each chunk it prints, its end. */
export type LauncherEvent =
  | { readonly type: 'started'; readonly id: number; readonly pid: number }
  | { readonly type: 'output'; readonly id: number; readonly chunk: Uint8Array }
  | {
      readonly type: 'ended';
      readonly id: number;
      readonly exitCode: number | null;
      readonly signal: NodeJS.Signals | null;
      /** Why the command could not start, or why its end is unknown (the launcher exited). */
      readonly failure?: string;
    };

/** Told of one launched command's life. */
export interface LaunchHandlers {
  onStarted(pid: number): void;
  onOutput(chunk: Buffer): void;
  onEnded(exitCode: number | null, signal: NodeJS.Signals | null, failure?: string): void;
}

/** Run from the sources (tests, benches), this module and the launcher's entry are TypeScript. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const ENTRY = fileURLToPath(
  new URL(`./command-launcher-process.${FROM_SOURCES ? 'ts' : 'js'}`, import.meta.url),
);

/**
 * Starts an agent's commands from a small process of its own. A fork copies the forking process's
 * page tables and blocks its thread until the child execs: from an agent holding many services'
 * content (or, in the bench, 100 agents) each reload stalled the agent for tens of milliseconds,
 * one after the other. The launcher's forks copy little and stall only the launcher. The commands
 * are run exactly as before (`sh -c`, a process group of their own, the environment and user
 * given); the caller keeps their deadline, killing the group by its pid. A launcher that exits
 * ends the runs it had as failed, and their groups are killed; the next launch starts another.
 */
export class CommandLauncher {
  private child: ChildProcess | undefined;
  private readonly running = new Map<number, LaunchHandlers & { pid?: number }>();
  private nextId = 1;

  /** The launcher process's pid, once one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts the launcher now, before any command needs it: an agent does so at its start, while it
   * is small and has time (the launcher's own fork then costs least, and no reload waits for it).
   */
  prepare(): void {
    if (!this.child) this.start();
  }

  launch(request: Omit<LaunchRequest, 'id'>, handlers: LaunchHandlers): void {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    this.running.set(id, { ...handlers });
    child.channel?.ref();
    child.send({ ...request, id } satisfies LaunchRequest, (error) => {
      if (error) this.end(id, null, null, `cannot reach the command launcher: ${error.message}`);
    });
  }

  private start(): ChildProcess {
    const child = fork(ENTRY, [], {
      execArgv: FROM_SOURCES ? ['--import', tsxLoader()] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (event: LauncherEvent) => this.onEvent(event));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const [id, run] of this.running) {
        if (run.pid !== undefined) killGroup(run.pid, 'SIGKILL');
        this.end(id, null, null, `the command launcher exited (${signal ?? code}) before the command ended`);
      }
    });
    // An idle launcher keeps no agent alive; one with commands under way does (see launch and end).
    child.unref();
    child.channel?.unref();
    return child;
  }

  private onEvent(event: LauncherEvent): void {
    const run = this.running.get(event.id);
    if (!run) return;
    if (event.type === 'started') {
      run.pid = event.pid;
      run.onStarted(event.pid);
    } else if (event.type === 'output') run.onOutput(Buffer.from(event.chunk));
    else this.end(event.id, event.exitCode, event.signal, event.failure);
  }

  private end(id: number, exitCode: number | null, signal: NodeJS.Signals | null, failure?: string): void {
    const run = this.running.get(id);
    if (!run) return;
    this.running.delete(id);
    if (this.running.size === 0) this.child?.channel?.unref();
    run.onEnded(exitCode, signal, failure);
  }
}

/** Sends `signal` to a command's whole process group; nothing when the group is gone already. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** The launcher every agent of this process uses: one small process, however many agents. */
export const commandLauncher = new CommandLauncher();
