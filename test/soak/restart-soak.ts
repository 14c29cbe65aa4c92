import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ZkSession } from '../../core/index.js';
import { createTempDir, killOnExit, removeTempDir } from '../../local/index.js';
import { startZooKeeper, waitFor } from '../harness/index.js';
import { COUNTER_PATH, type SoakReport } from './soak-report.js';

export interface RestartSoakOptions {
  readonly restarts: number;
  readonly clients: number;
  /** Acknowledged writes required after each restart before the next one. Default 3. */
  readonly writesBetween?: number;
  /** Deadline for the clients and the writer to come back after one restart. Default 60 s. */
  readonly stepTimeoutMs?: number;
  /** Called after each restart, with its number (1-based). */
  readonly onRestart?: (restart: number, signal: 'SIGTERM' | 'SIGKILL') => void;
}

export interface RestartSoakResult {
  readonly restarts: number;
  readonly sigterm: number;
  readonly sigkill: number;
  readonly clients: number;
  readonly durationMs: number;
  /** Processes that exited on their own, with their exit and the tail of their stderr. */
  readonly crashed: readonly string[];
  readonly acknowledged: number;
  readonly lastAcknowledged: number;
  /** The counter read on a fresh session once the writer stopped. */
  readonly finalValue: number;
  /** Acknowledged values the final value does not include (it is lower than they are). */
  readonly lost: number;
  /** Acknowledged values that were not above the one before. */
  readonly notMonotonic: number;
  /** Values a client read that were lower than one it had read before. */
  readonly regressions: readonly string[];
  /** Clients that did not read the final value within the step deadline. */
  readonly behind: readonly string[];
}

const STDERR_TAIL_BYTES = 4096;
const SCRIPTS = ['soak-client', 'soak-writer'] as const;

/**
 * Bundles the soak's process scripts into plain JavaScript once: twenty-one processes each
 * compiling TypeScript at start would cost more CPU than the soak itself on a 2-core machine.
 */
async function bundleScripts(dir: string): Promise<Record<(typeof SCRIPTS)[number], string>> {
  await build({
    entryPoints: SCRIPTS.map((name) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url))),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
  });
  return { 'soak-client': join(dir, 'soak-client.mjs'), 'soak-writer': join(dir, 'soak-writer.mjs') };
}

/** A soak process and what it reported. */
class SoakProcess {
  readonly child: ChildProcess;
  seen = -1;
  acks = 0;
  lastAck = 0;
  notMonotonic = 0;
  stopped = false;
  readonly regressions: string[] = [];
  exit: string | undefined;
  private stderr = '';

  constructor(
    readonly name: string,
    script: string,
    connectString: string,
    onExit: (process: SoakProcess) => void,
  ) {
    this.child = spawn(process.execPath, [script, connectString], { stdio: ['pipe', 'pipe', 'pipe'] });
    killOnExit(this.child);
    // A process that died before reading "stop" is reported by its exit, not by a closed pipe.
    this.child.stdin!.on('error', () => undefined);
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onReport(line));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL_BYTES);
    });
    this.child.on('exit', (code, signal) => {
      this.exit = `exited with ${signal ?? `code ${code}`}${this.stderr ? `:\n${this.stderr}` : ''}`;
      onExit(this);
    });
  }

  private onReport(line: string): void {
    let message: SoakReport;
    try {
      message = JSON.parse(line) as SoakReport;
    } catch {
      return; // Not a report: a stray log line.
    }
    if ('seen' in message) this.seen = Math.max(this.seen, message.seen);
    else if ('regressed' in message)
      this.regressions.push(`${this.name}: ${message.regressed.from} then ${message.regressed.to}`);
    else if ('ack' in message) {
      if (message.ack <= this.lastAck) this.notMonotonic++;
      this.lastAck = Math.max(this.lastAck, message.ack);
      this.acks++;
    } else if ('stopped' in message) this.stopped = true;
  }

  terminate(): void {
    if (this.exit === undefined) this.child.kill('SIGKILL');
  }
}

/**
 * Restarts a real ZooKeeper server `restarts` times (SIGKILL and SIGTERM in turn) under `clients`
 * client processes and a writer process, and reports crashes and lost updates: every client must
 * stay alive and come back after each restart, every acknowledged write must survive, and every
 * client must end on the final value. Between restarts it waits on what the processes report, never
 * on a fixed pause.
 */
export async function runRestartSoak(options: RestartSoakOptions): Promise<RestartSoakResult> {
  const writesBetween = options.writesBetween ?? 3;
  const stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  const started = Date.now();
  const scriptsDir = await createTempDir('cairn-soak-');
  const scripts = await bundleScripts(scriptsDir);
  const zk = await startZooKeeper();
  const crashed: SoakProcess[] = [];
  const processes: SoakProcess[] = [];
  // Any process that exits on its own ends the waiting at once: the soak has failed.
  const failure = new AbortController();
  const onExit = (process: SoakProcess) => {
    if (process.stopped) return;
    crashed.push(process);
    failure.abort(new Error(`${process.name} ${process.exit}`));
  };
  let sigterm = 0;
  let sigkill = 0;
  try {
    const seed = await ZkSession.connect({ connectString: zk.connectString });
    await seed.mkdirp('/soak');
    await seed.create(COUNTER_PATH, Buffer.from('0'));
    await seed.close();

    const clients = Array.from(
      { length: options.clients },
      (_, i) => new SoakProcess(`client ${i + 1}`, scripts['soak-client'], zk.connectString, onExit),
    );
    const writer = new SoakProcess('writer', scripts['soak-writer'], zk.connectString, onExit);
    processes.push(...clients, writer);

    /** Waits until the writer has `writesBetween` more acknowledgements and every client read one of them. */
    const progress = async (what: string) => {
      const mark = writer.lastAck;
      await waitFor(
        () => writer.lastAck >= mark + writesBetween && clients.every((client) => client.seen > mark),
        {
          description: `${what}: ${writesBetween} more acknowledged writes after ${mark}, read by every client (behind: ${clients
            .filter((client) => client.seen <= mark)
            .map((client) => client.name)
            .join(', ')})`,
          timeoutMs: stepTimeoutMs,
          signal: failure.signal,
        },
      );
    };

    await progress('the processes to start');
    for (let restart = 1; restart <= options.restarts; restart++) {
      const signal = restart % 2 === 1 ? 'SIGKILL' : 'SIGTERM';
      if (signal === 'SIGKILL') {
        sigkill++;
        await zk.kill();
      } else {
        sigterm++;
        await zk.stop();
      }
      await zk.restart();
      await progress(`restart ${restart}`);
      options.onRestart?.(restart, signal);
    }

    writer.child.stdin!.write('stop\n');
    await waitFor(() => writer.exit !== undefined, {
      description: 'the writer to stop',
      timeoutMs: stepTimeoutMs,
      signal: failure.signal,
    });
    const reader = await ZkSession.connect({ connectString: zk.connectString });
    const finalValue = Number((await reader.get(COUNTER_PATH)).data.toString());
    await reader.close();
    await waitFor(() => clients.every((client) => client.seen === finalValue), {
      description: `every client to read the final value ${finalValue}`,
      timeoutMs: stepTimeoutMs,
      signal: failure.signal,
    }).catch(() => undefined);
    return {
      restarts: options.restarts,
      sigterm,
      sigkill,
      clients: clients.length,
      durationMs: Date.now() - started,
      crashed: crashed.map((process) => `${process.name} ${process.exit}`),
      acknowledged: writer.acks,
      lastAcknowledged: writer.lastAck,
      finalValue,
      lost: Math.max(0, writer.lastAck - finalValue),
      notMonotonic: writer.notMonotonic,
      regressions: clients.flatMap((client) => client.regressions),
      behind: clients
        .filter((client) => client.seen !== finalValue)
        .map((client) => `${client.name} read ${client.seen}`),
    };
  } catch (error) {
    if (crashed.length > 0)
      throw new Error(`restart soak failed: ${crashed.map((p) => `${p.name} ${p.exit}`).join('\n')}`, {
        cause: error,
      });
    throw error;
  } finally {
    for (const process of processes) process.terminate();
    await zk.close();
    await removeTempDir(scriptsDir);
  }
}
