import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  /** The launcher runs and takes requests (a first one sent earlier waited for its start). */
  | { readonly type: 'ready' }
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

/** The launcher's entry: plain JavaScript, run without a loader from the sources as from the build. */
const ENTRY = fileURLToPath(new URL('./command-launcher-process.mjs', import.meta.url));

/** Launchers a burst of commands may start: forks under way in each overlap, up to here. */
const LAUNCHERS_AT_MOST = 4;

/** A command under way: who to tell, and its pid once the launcher says. */
type Run = LaunchHandlers & { pid?: number };

/** One launcher process and the commands it started. */
interface Launcher {
  readonly child: ChildProcess;
  readonly runs: Map<number, Run>;
  /** Commands sent whose start it has not told yet: while one is, it is forking and others wait. */
  forking: number;
  /** It said it runs: a command sent to it waits for no process to start. */
  ready: boolean;
}

/**
 * Starts an agent's commands from small processes of its own. A fork copies the forking process's
 * page tables and blocks its thread until the child execs: from an agent holding many services'
 * content (or, in the bench, 100 agents) each reload stalled the agent for tens of milliseconds,
 * one after the other. A launcher's forks copy little and stall only the launcher. One launcher
 * serves one command at a time well; a command that would wait behind another's fork starts
 * another launcher, up to LAUNCHERS_AT_MOST, so that a burst (one commit reaching many services)
 * forks in parallel. The commands are run exactly as before (`sh -c`, a process group of their
 * own, the environment and user given); the caller keeps their deadline, killing the group by its
 * pid. A launcher that exits ends the runs it had as failed, and their groups are killed; the next
 * launch starts another.
 */
export class CommandLauncher {
  private readonly launchers: Launcher[] = [];
  private nextId = 1;

  /** The first launcher process's pid, once one runs: the one a lone command goes to. */
  get pid(): number | undefined {
    return this.launchers[0]?.child.pid;
  }

  /**
   * Starts a launcher now, before any command needs it: an agent does so at its start, while it
   * is small and has time (the launcher's own fork then costs least, and no reload waits for it).
   */
  prepare(): void {
    if (this.launchers.length === 0) this.start();
  }

  launch(request: Omit<LaunchRequest, 'id'>, handlers: LaunchHandlers): void {
    const launcher = this.pick();
    const id = this.nextId++;
    launcher.runs.set(id, { ...handlers });
    launcher.forking++;
    launcher.child.channel?.ref();
    launcher.child.send({ ...request, id } satisfies LaunchRequest, (error) => {
      if (error) this.end(launcher, id, null, null, `cannot reach the command launcher: ${error.message}`);
    });
  }

  /** Launchers running and taking requests. */
  get readyCount(): number {
    return this.launchers.filter((launcher) => launcher.ready).length;
  }

  /**
   * The first running launcher not forking. Else, while there may be more, another starts for the
   * next burst, and this command goes to the least busy running one: waiting behind a fork takes
   * milliseconds, waiting for a process to start takes longer. A launcher still starting is taken
   * only when none runs.
   */
  private pick(): Launcher {
    const idle = this.launchers.find((launcher) => launcher.ready && launcher.forking === 0);
    if (idle) return idle;
    const started = this.launchers.length < LAUNCHERS_AT_MOST ? this.start() : undefined;
    const running = this.launchers.filter((launcher) => launcher.ready);
    const candidates = running.length > 0 ? running : this.launchers;
    return (
      candidates.reduce<Launcher | undefined>(
        (least, launcher) => (least === undefined || launcher.forking < least.forking ? launcher : least),
        undefined,
      ) ?? (started as Launcher)
    );
  }

  private start(): Launcher {
    const child = forkLauncherProcess();
    const launcher: Launcher = { child, runs: new Map(), forking: 0, ready: false };
    this.launchers.push(launcher);
    child.on('message', (event: LauncherEvent) => this.onEvent(launcher, event));
    /** The launcher is gone: its runs fail, and what they started is killed. */
    const gone = (why: string) => {
      const at = this.launchers.indexOf(launcher);
      if (at < 0) return;
      this.launchers.splice(at, 1);
      for (const [id, run] of launcher.runs) {
        if (run.pid !== undefined) killGroup(run.pid, 'SIGKILL');
        this.end(launcher, id, null, null, `the command launcher ${why} before the command ended`);
      }
    };
    child.once('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    // One that could not start (no memory, no processes left) never exits; one that did is ended.
    child.on('error', (error) => {
      if (child.pid === undefined) gone(`could not start (${error.message})`);
      else child.kill('SIGKILL');
    });
    // An idle launcher keeps no agent alive; one with commands under way does (see launch and end).
    child.unref();
    child.channel?.unref();
    return launcher;
  }

  private onEvent(launcher: Launcher, event: LauncherEvent): void {
    if (event.type === 'ready') {
      launcher.ready = true;
      return;
    }
    const run = launcher.runs.get(event.id);
    if (!run) return;
    if (event.type === 'started') {
      launcher.forking--;
      run.pid = event.pid;
      run.onStarted(event.pid);
    } else if (event.type === 'output') run.onOutput(Buffer.from(event.chunk));
    else this.end(launcher, event.id, event.exitCode, event.signal, event.failure);
  }

  private end(
    launcher: Launcher,
    id: number,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    failure?: string,
  ): void {
    const run = launcher.runs.get(id);
    if (!run) return;
    launcher.runs.delete(id);
    if (run.pid === undefined) launcher.forking--; // it never started
    if (launcher.runs.size === 0) launcher.child.channel?.unref();
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

/**
 * Starts one launcher process, speaking LaunchRequest and LauncherEvent over its IPC channel; it
 * says 'ready' once it takes requests, and exits when its parent disconnects.
 */
function forkLauncherProcess(): ChildProcess {
  return fork(ENTRY, [], {
    // Whatever the parent runs under (a TypeScript loader, a profiler), the launcher needs none of it.
    execArgv: [],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The launcher every agent of this process uses: one small process, however many agents. */
export const commandLauncher = new CommandLauncher();
