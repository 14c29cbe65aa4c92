import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { killOnExit } from './exit-cleanup.js';
import { LocalServerError } from './local-server-error.js';
import { waitFor } from './wait-for.js';

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
/**
 * The Debian jar's manifest `Class-Path` already names every runtime dependency (zookeeper-jute,
 * netty, jetty, jackson, metrics, snappy, jline, commons-cli/io, slf4j-api), so `-cp zookeeper.jar`
 * runs the server. What it does not name is an SLF4J binding: alone, the server logs nothing at all
 * ("Defaulting to no-operation (NOP) logger"). Debian builds ZooKeeper against log4j 1.2 (its
 * /etc/zookeeper/conf/log4j.properties), not upstream's logback, and ships the binding in
 * libslf4j-java and log4j itself in liblog4j1.2-java — both dependencies of the package.
 */
const LOGGING_JARS = ['/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'];
const INSTALL_HINT = 'run `bash scripts/install-system-deps.sh` (it installs the Debian package `zookeeper`)';

/** The heap of a server that holds test-sized data: tests start many servers on 2 cores. */
export const DEFAULT_HEAP_MB = 256;

/** Small and quick to start: tests start many servers on 2 cores, and none holds much data. */
const JVM_FLAGS = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.net.preferIPv4Stack=true',
  '-Dzookeeper.admin.enableServer=false',
  '-Dzookeeper.jmx.log4j.disable=true',
];

/** How a JVM that runs ZooKeeper is launched; resolved once per process. */
interface ZooKeeperLaunch {
  readonly command: string;
  readonly prefixArgs: readonly string[];
  readonly classpath: string;
}

let launch: ZooKeeperLaunch | undefined;

/** Throws a `LocalServerError` that says how to install what is missing. */
export function zooKeeperLaunch(): ZooKeeperLaunch {
  if (launch) return launch;
  if (!existsSync(ZOOKEEPER_JAR)) {
    throw new LocalServerError(
      'ZOOKEEPER_NOT_INSTALLED',
      `ZooKeeper is not installed (${ZOOKEEPER_JAR} is missing): ${INSTALL_HINT}.`,
    );
  }
  const java = findOnPath('java');
  if (!java) throw new LocalServerError('JAVA_NOT_FOUND', `No \`java\` on PATH: ${INSTALL_HINT}.`);
  const classpath = [ZOOKEEPER_JAR, ...LOGGING_JARS.filter((jar) => existsSync(jar))].join(delimiter);
  // setpriv asks the kernel to SIGKILL the JVM when this process dies, however it dies: the `exit`
  // hook in exit-cleanup.ts cannot run when a test runner SIGKILLs its worker. It execs java, so
  // the pid we hold is the JVM's own.
  const setpriv = findOnPath('setpriv');
  launch = setpriv
    ? { command: setpriv, prefixArgs: ['--pdeathsig', 'KILL', '--', java], classpath }
    : { command: java, prefixArgs: [], classpath };
  return launch;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Writes a zoo.cfg; values are written as given, one `key=value` a line. */
export async function writeZooCfg(path: string, entries: Record<string, string | number>): Promise<void> {
  const lines = Object.entries(entries).map(([key, value]) => `${key}=${value}`);
  await writeFile(path, `${lines.join('\n')}\n`);
}

/**
 * log4j 1.2 to the console, whose output is redirected to a file in the server's temp dir: one file
 * then holds the server's log and anything the JVM prints before log4j starts (a bad classpath, a
 * port in use), which is what a failed start needs to show. %c rather than %C/%L: location
 * information is costly to compute.
 */
export async function writeLog4jProperties(path: string): Promise<void> {
  await writeFile(
    path,
    [
      'log4j.rootLogger=INFO, CONSOLE',
      'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
      'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{1} - %m%n',
      '',
    ].join('\n'),
  );
}

/** What `srvr` says about a server, plus the two ways it can fail to say anything useful. */
export type ServerState = 'leader' | 'follower' | 'standalone' | 'not-serving' | 'unreachable';

/**
 * Sends a ZooKeeper four-letter command (`srvr`, `mntr`, `cons`, `wchc`…) to a server on the
 * loopback interface and resolves with its whole answer. ZooKeeper answers and closes the
 * connection, so the answer is complete when the socket closes.
 */
export function fourLetterWord(
  port: number,
  command: string,
  options: { timeoutMs?: number } = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 2_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no answer to '${command}' from 127.0.0.1:${port} within ${timeoutMs} ms`));
    });
    socket.on('connect', () => socket.end(command));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Interprets `srvr`; a refused or silent connection is `unreachable`, by definition not an error. */
export async function serverState(port: number): Promise<ServerState> {
  let answer: string;
  try {
    answer = await fourLetterWord(port, 'srvr');
  } catch {
    return 'unreachable';
  }
  const mode = /^Mode: (\w+)/m.exec(answer)?.[1];
  // A quorum member without a quorum answers "This ZooKeeper instance is not currently serving requests".
  return mode === 'leader' || mode === 'follower' || mode === 'standalone' ? mode : 'not-serving';
}

/** The last lines of a log file, to put in an error message. */
export async function logTail(path: string, lines = 40): Promise<string> {
  const maxBytes = 16_384;
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').split('\n').slice(-lines).join('\n');
    } finally {
      await file.close();
    }
  } catch (error) {
    return `(could not read ${path}: ${String(error)})`;
  }
}

export interface ZooKeeperProcessOptions {
  /** Names the server in messages, e.g. "standalone" or "member 2". */
  readonly label: string;
  readonly configPath: string;
  readonly log4jPath: string;
  readonly logPath: string;
  readonly clientPort: number;
  /** The JVM's maximum heap, in MB. Default DEFAULT_HEAP_MB. */
  readonly heapMb?: number;
}

const STOP_GRACE_MS = 15_000;
const START_TIMEOUT_MS = 30_000;

/** One ZooKeeper JVM that can be started, stopped and started again with the same configuration. */
export class ZooKeeperProcess {
  readonly options: ZooKeeperProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(options: ZooKeeperProcessOptions) {
    this.options = options;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts the JVM and polls `srvr` until `isReady` accepts the server's state. Rejects with
   * ZOOKEEPER_EXITED as soon as the JVM dies, or ZOOKEEPER_START_TIMEOUT; both carry the log's tail.
   * On rejection the JVM may still run: the caller decides whether to kill it.
   */
  async start(isReady: (state: ServerState) => boolean, readiness: string): Promise<void> {
    if (this.#child) return;
    const { label, configPath, log4jPath, logPath, clientPort } = this.options;
    const { command, prefixArgs, classpath } = zooKeeperLaunch();
    const args = [
      ...prefixArgs,
      `-Xmx${this.options.heapMb ?? DEFAULT_HEAP_MB}m`,
      ...JVM_FLAGS,
      `-Dlog4j.configuration=${pathToFileURL(log4jPath).href}`,
      '-cp',
      classpath,
      'org.apache.zookeeper.server.quorum.QuorumPeerMain',
      configPath,
    ];
    const log = await open(logPath, 'a');
    let child: ChildProcess;
    try {
      // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and the
      // server must outlive that signal until the process that started it has stopped its clients
      // (a syncer mid-write) and stops the server in turn. It still dies with that process: setpriv's
      // death signal, and the hooks of exit-cleanup.ts.
      child = spawn(command, args, { stdio: ['ignore', log.fd, log.fd], detached: true });
    } finally {
      // The child holds its own copy of the descriptor once spawn() has returned.
      await log.close();
    }
    this.#child = child;
    killOnExit(child);

    const died = new AbortController();
    this.#exited = new Promise<void>((resolve) => {
      const onGone = (outcome: string): void => {
        if (this.#child === child) this.#child = undefined;
        resolve();
        void logTail(logPath).then((tail) => {
          died.abort(
            new LocalServerError(
              'ZOOKEEPER_EXITED',
              `ZooKeeper ${label} (port ${clientPort}) ${outcome} before it was ${readiness}. Log: ${logPath}\n${tail}`,
            ),
          );
        });
      };
      child.once('exit', (code, signal) =>
        onGone(signal ? `was killed by ${signal}` : `exited with code ${code}`),
      );
      child.once('error', (error) => onGone(`could not be started (${error.message})`));
    });

    try {
      await waitFor(async () => isReady(await serverState(clientPort)), {
        description: `ZooKeeper ${label} on 127.0.0.1:${clientPort} to be ${readiness}`,
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 100,
        signal: died.signal,
      });
    } catch (error) {
      if (error instanceof LocalServerError && error.code === 'WAIT_TIMEOUT') {
        throw new LocalServerError(
          'ZOOKEEPER_START_TIMEOUT',
          `${error.message}. Log: ${logPath}\n${await logTail(logPath)}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /** SIGTERM and wait for the exit; SIGKILL if the JVM has not exited after a generous grace period. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const grace = new AbortController();
    const exitedInTime = await Promise.race([
      this.#exited.then(() => true),
      delay(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false),
    ]);
    grace.abort();
    if (!exitedInTime) child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGKILL: a crash, with no chance to close sessions or sockets cleanly. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }
}
