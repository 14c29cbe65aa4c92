import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, removeTempDir } from './exit-cleanup.js';
import { findFreePorts } from './free-ports.js';
import { LocalServerError } from './local-server-error.js';
import { waitFor } from './wait-for.js';
import {
  type ServerState,
  serverState,
  writeLog4jProperties,
  writeZooCfg,
  ZooKeeperProcess,
  zooKeeperLaunch,
} from './zookeeper-process.js';

export { fourLetterWord } from './zookeeper-process.js';

export interface ZooKeeperServerOptions {
  /**
   * ZooKeeper's time unit, in ms. Default 500 (ZooKeeper's own is 2000): session timeouts are
   * bounded by 2–20 ticks, so a short tick lets a test expire a session in about a second.
   */
  tickTime?: number;
  /**
   * Connections allowed per client IP. Default 0 = unlimited: every test session comes from
   * 127.0.0.1, and ZooKeeper's default of 60 would refuse a test that opens many.
   */
  maxClientCnxns?: number;
  /** Lower bound the server imposes on session timeouts, in ms. ZooKeeper's default: 2 × tickTime. */
  minSessionTimeout?: number;
  /** Upper bound the server imposes on session timeouts, in ms. ZooKeeper's default: 20 × tickTime. */
  maxSessionTimeout?: number;
  /**
   * The JVM's maximum heap, in MB. Default 256, for test-sized data: 100,000 files of about 700
   * bytes need more (each node costs its data and about 1 KB besides, and the server keeps its last
   * 500 transactions in memory).
   */
  heapMb?: number;
}

/** Where a standalone server lives, for a server whose data must outlive it (`cairn start`'s). */
export interface StandaloneServerOptions extends ZooKeeperServerOptions {
  /**
   * The server's own directory, created if missing: `zoo.cfg`, `zookeeper.log` and the data in
   * `data/`. A server started again on the same directory finds its data; `close()` keeps it.
   * Default: a new temp dir, which `close()` removes.
   */
  dir?: string;
  /** The client port. Default: a free one. A port in use fails the start (ZOOKEEPER_EXITED). */
  port?: number;
}

/** A standalone ZooKeeper server: a real JVM on a loopback port, with its own directory. */
export interface ZooKeeperServer {
  /** `127.0.0.1:<port>`, for a ZooKeeper client. */
  readonly connectString: string;
  /** Fixed for the server's life, so clients reconnect to it across `stop()`/`restart()`. */
  readonly port: number;
  /** Where snapshots and transaction logs live; it survives `stop()` and `kill()`. */
  readonly dataDir: string;
  /** The server's log (its JVM's output too). */
  readonly logPath: string;
  /** SIGTERM and wait for the JVM to exit. The port and data stay for `restart()`. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the JVM to exit. The port and data stay for `restart()`. */
  kill(): Promise<void>;
  /** Starts the server again (stopping it first if it runs) on the same port and data, and waits until it serves. */
  restart(): Promise<void>;
  /** Stops the server and removes its temp dir (a `dir` given to it stays). Safe to call more than once. */
  close(): Promise<void>;
}

/** One server of an ensemble. */
export interface EnsembleMember {
  /** The server id (`myid`), 1-based. */
  readonly id: number;
  readonly clientPort: number;
  /** `127.0.0.1:<clientPort>`: this member alone, to observe one server's view. */
  readonly connectString: string;
  /** SIGTERM and wait for the JVM to exit. */
  stop(): Promise<void>;
  /** SIGKILL (a crash) and wait for the JVM to exit. */
  kill(): Promise<void>;
  /**
   * Starts the member again (stopping it first if it runs) with the same ports and data. Waits until
   * it serves when enough members run to form a quorum, and otherwise only until it listens, so
   * members of an ensemble that lost its quorum can be restarted one after the other.
   */
  restart(): Promise<void>;
  /** The member's role now, from `srvr`. `down` covers a stopped member and one not serving (no quorum). */
  mode(): Promise<'leader' | 'follower' | 'standalone' | 'down'>;
}

/** A ZooKeeper ensemble of real JVMs on loopback ports, for tests of failover and quorum loss. */
export interface ZooKeeperEnsemble {
  /** Every member, comma separated, as a client of the whole ensemble is configured. */
  readonly connectString: string;
  readonly members: readonly EnsembleMember[];
  /** The member that leads once the ensemble has a quorum; polls until then, with a deadline. */
  leader(): Promise<EnsembleMember>;
  /** Waits, with a deadline, until one leader and a majority of members serve. */
  waitForQuorum(): Promise<void>;
  /** Stops every member and removes the temp dir. Safe to call more than once. */
  close(): Promise<void>;
}

const DEFAULT_TICK_TIME_MS = 500;
const QUORUM_TIMEOUT_MS = 30_000;

/** Settings shared by standalone servers and ensemble members. */
function baseConfig(
  options: ZooKeeperServerOptions,
  dataDir: string,
  clientPort: number,
): Record<string, string | number> {
  const config: Record<string, string | number> = {
    tickTime: options.tickTime ?? DEFAULT_TICK_TIME_MS,
    dataDir,
    clientPort,
    clientPortAddress: '127.0.0.1',
    maxClientCnxns: options.maxClientCnxns ?? 0,
    // The admin server would bind port 8080 for every server: the first would win, the rest fail.
    'admin.enableServer': 'false',
    '4lw.commands.whitelist': '*',
  };
  if (options.minSessionTimeout !== undefined) config.minSessionTimeout = options.minSessionTimeout;
  if (options.maxSessionTimeout !== undefined) config.maxSessionTimeout = options.maxSessionTimeout;
  return config;
}

/**
 * Starts a standalone ZooKeeper server and resolves once it serves clients. Rejects with a
 * `LocalServerError` that names the log file when the JVM cannot start.
 */
export async function startZooKeeper(options: StandaloneServerOptions = {}): Promise<ZooKeeperServer> {
  zooKeeperLaunch();
  const { dir, port: chosenPort, ...serverOptions } = options;
  const root = dir ?? (await createTempDir('cairn-zk-'));
  let server: StandaloneServer | undefined;
  try {
    const port = chosenPort ?? (await findFreePorts(1))[0];
    if (port === undefined) throw new Error('findFreePorts returned no port');
    const dataDir = join(root, 'data');
    await mkdir(dataDir, { recursive: true });
    const configPath = join(root, 'zoo.cfg');
    const log4jPath = join(root, 'log4j.properties');
    await writeZooCfg(configPath, baseConfig(serverOptions, dataDir, port));
    await writeLog4jProperties(log4jPath);
    const jvm = new ZooKeeperProcess({
      label: 'standalone',
      configPath,
      log4jPath,
      logPath: join(root, 'zookeeper.log'),
      clientPort: port,
      ...(serverOptions.heapMb !== undefined ? { heapMb: serverOptions.heapMb } : {}),
    });
    server = new StandaloneServer(dir === undefined ? root : undefined, dataDir, jvm);
    await server.restart();
    return server;
  } catch (error) {
    // The directory stays (a temp dir until the process exits): the error names its log file.
    await server?.kill();
    throw error;
  }
}

class StandaloneServer implements ZooKeeperServer {
  readonly dataDir: string;
  /** The temp dir to remove on close(); undefined for a directory the caller keeps. */
  readonly #tempDir: string | undefined;
  readonly #jvm: ZooKeeperProcess;
  #closing: Promise<void> | undefined;

  constructor(tempDir: string | undefined, dataDir: string, jvm: ZooKeeperProcess) {
    this.#tempDir = tempDir;
    this.dataDir = dataDir;
    this.#jvm = jvm;
  }

  get logPath(): string {
    return this.#jvm.options.logPath;
  }

  get port(): number {
    return this.#jvm.options.clientPort;
  }

  get connectString(): string {
    return `127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    return this.#jvm.stop();
  }

  kill(): Promise<void> {
    return this.#jvm.kill();
  }

  async restart(): Promise<void> {
    if (this.#closing)
      throw new LocalServerError(
        'SERVER_CLOSED',
        `ZooKeeper server ${this.connectString} is closed; start a new one`,
      );
    await this.#jvm.stop();
    await this.#jvm.start((state) => state === 'standalone', 'serving');
  }

  close(): Promise<void> {
    const tempDir = this.#tempDir;
    this.#closing ??= this.#jvm.stop().then(() => (tempDir ? removeTempDir(tempDir) : undefined));
    return this.#closing;
  }
}

/**
 * Starts an ensemble of `size` members (default 3) and resolves once every member serves, one of
 * them as leader. Rejects with a `LocalServerError` naming the members' log files when it cannot.
 */
export async function startEnsemble(
  size = 3,
  options: ZooKeeperServerOptions = {},
): Promise<ZooKeeperEnsemble> {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`An ensemble needs at least one member, not ${size}`);
  zooKeeperLaunch();
  const root = await createTempDir('cairn-zk-');
  let ensemble: Ensemble | undefined;
  try {
    const ports = await findFreePorts(size * 3);
    const port = (index: number): number => {
      const value = ports[index];
      if (value === undefined) throw new Error(`findFreePorts returned no port #${index}`);
      return value;
    };
    const ids = Array.from({ length: size }, (_, index) => index + 1);
    // Member n uses ports 3(n-1) (client), 3(n-1)+1 (quorum) and 3(n-1)+2 (leader election).
    const servers = Object.fromEntries(
      ids.map((id) => [`server.${id}`, `127.0.0.1:${port((id - 1) * 3 + 1)}:${port((id - 1) * 3 + 2)}`]),
    );
    const jvms = await Promise.all(
      ids.map(async (id) => {
        const dir = join(root, `member-${id}`);
        const dataDir = join(dir, 'data');
        await mkdir(dataDir, { recursive: true });
        await writeFile(join(dataDir, 'myid'), `${id}\n`);
        const clientPort = port((id - 1) * 3);
        const configPath = join(dir, 'zoo.cfg');
        const log4jPath = join(dir, 'log4j.properties');
        await writeZooCfg(configPath, {
          ...baseConfig(options, dataDir, clientPort),
          // In ticks: how long followers may take to connect and sync to a leader, and to stay in sync.
          initLimit: 10,
          syncLimit: 5,
          quorumListenOnAllIPs: 'false',
          ...servers,
        });
        await writeLog4jProperties(log4jPath);
        return new ZooKeeperProcess({
          label: `member ${id}`,
          configPath,
          log4jPath,
          logPath: join(dir, 'zookeeper.log'),
          clientPort,
          ...(options.heapMb !== undefined ? { heapMb: options.heapMb } : {}),
        });
      }),
    );
    ensemble = new Ensemble(root, jvms);
    // Members wait for each other to elect a leader: start them all before waiting for any to serve.
    await Promise.all(jvms.map((jvm) => jvm.start(isListening, 'listening')));
    await ensemble.waitUntil(
      (states) => states.every(isServing) && countLeaders(states) === 1,
      'every member to serve, one of them as leader',
    );
    return ensemble;
  } catch (error) {
    // The temp dir stays until the process exits: the error names the members' log files.
    await Promise.all(ensemble?.members.map((member) => member.kill()) ?? []);
    throw error;
  }
}

function isListening(state: ServerState): boolean {
  return state !== 'unreachable';
}

function isServing(state: ServerState): state is 'leader' | 'follower' | 'standalone' {
  return state === 'leader' || state === 'follower' || state === 'standalone';
}

/** A one-member ensemble runs standalone: that member takes the writes, as a leader would. */
function countLeaders(states: readonly ServerState[]): number {
  return states.filter((state) => state === 'leader' || state === 'standalone').length;
}

class Ensemble implements ZooKeeperEnsemble {
  readonly members: readonly Member[];
  readonly #root: string;
  #closing: Promise<void> | undefined;

  constructor(root: string, jvms: readonly ZooKeeperProcess[]) {
    this.#root = root;
    this.members = jvms.map((jvm, index) => new Member(index + 1, jvm, this));
  }

  get connectString(): string {
    return this.members.map((member) => member.connectString).join(',');
  }

  /** Members needed for a quorum: a strict majority. */
  get quorumSize(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  get runningMembers(): number {
    return this.members.filter((member) => member.jvm.running).length;
  }

  async leader(): Promise<EnsembleMember> {
    const states = await this.waitUntil(
      (current) => countLeaders(current) === 1 && current.filter(isServing).length >= this.quorumSize,
      'a leader with a quorum',
    );
    const index = states.findIndex((state) => state === 'leader' || state === 'standalone');
    const leader = this.members[index];
    if (!leader) throw new Error('no leader among the polled states');
    return leader;
  }

  async waitForQuorum(): Promise<void> {
    await this.leader();
  }

  /**
   * Polls every member's `srvr` until `accept` holds for their states. A poll sees the members one
   * after the other, not at one instant, so a predicate should ask for a state that lasts.
   */
  async waitUntil(
    accept: (states: readonly ServerState[]) => boolean,
    description: string,
  ): Promise<ServerState[]> {
    let last: ServerState[] = [];
    try {
      return await waitFor(
        async () => {
          last = await Promise.all(
            this.members.map((member) =>
              member.jvm.running ? serverState(member.clientPort) : 'unreachable',
            ),
          );
          return accept(last) ? last : undefined;
        },
        {
          description: `ZooKeeper ensemble ${this.connectString}: ${description}`,
          timeoutMs: QUORUM_TIMEOUT_MS,
          intervalMs: 100,
        },
      );
    } catch (error) {
      const seen = this.members
        .map((member, index) => `member ${member.id}: ${last[index] ?? 'not polled'}`)
        .join(', ');
      const logs = this.members.map((member) => member.jvm.options.logPath).join(', ');
      throw new LocalServerError(
        'ZOOKEEPER_NO_QUORUM',
        `${error instanceof Error ? error.message : String(error)}. Last seen: ${seen}. Logs: ${logs}`,
        { cause: error },
      );
    }
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(this.members.map((member) => member.jvm.stop())).then(() =>
      removeTempDir(this.#root),
    );
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }
}

class Member implements EnsembleMember {
  readonly id: number;
  readonly jvm: ZooKeeperProcess;
  readonly #ensemble: Ensemble;

  constructor(id: number, jvm: ZooKeeperProcess, ensemble: Ensemble) {
    this.id = id;
    this.jvm = jvm;
    this.#ensemble = ensemble;
  }

  get clientPort(): number {
    return this.jvm.options.clientPort;
  }

  get connectString(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  stop(): Promise<void> {
    return this.jvm.stop();
  }

  kill(): Promise<void> {
    return this.jvm.kill();
  }

  async restart(): Promise<void> {
    if (this.#ensemble.closed)
      throw new LocalServerError(
        'SERVER_CLOSED',
        `ZooKeeper ensemble ${this.#ensemble.connectString} is closed; start a new one`,
      );
    await this.jvm.stop();
    await this.jvm.start(isListening, 'listening');
    if (this.#ensemble.runningMembers >= this.#ensemble.quorumSize) {
      await waitFor(async () => isServing(await serverState(this.clientPort)), {
        description: `ZooKeeper member ${this.id} on ${this.connectString} to rejoin its ensemble`,
        timeoutMs: QUORUM_TIMEOUT_MS,
        intervalMs: 100,
      });
    }
  }

  async mode(): Promise<'leader' | 'follower' | 'standalone' | 'down'> {
    if (!this.jvm.running) return 'down';
    const state = await serverState(this.clientPort);
    return isServing(state) ? state : 'down';
  }
}
