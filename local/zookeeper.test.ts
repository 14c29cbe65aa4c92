import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkSession, type ZkStat } from '../core/index.js';
import { LocalServerError } from './local-server-error.js';
import { waitFor } from './wait-for.js';
import {
  fourLetterWord,
  startEnsemble,
  startZooKeeper,
  type ZooKeeperEnsemble,
  type ZooKeeperServer,
} from './zookeeper.js';

function connect(connectString: string): Promise<ZkSession> {
  return ZkSession.connect({ connectString, sessionTimeoutMs: 4_000 });
}

async function create(client: ZkSession, path: string, data: string): Promise<string> {
  return client.create(path, Buffer.from(data));
}

async function getData(client: ZkSession, path: string): Promise<{ data: string; stat: ZkStat }> {
  const { data, stat } = await client.get(path);
  return { data: data.toString(), stat };
}

async function readOnce(connectString: string, path: string): Promise<string> {
  const client = await connect(connectString);
  try {
    return (await getData(client, path)).data;
  } finally {
    await client.close();
  }
}

/** Pids of the ZooKeeper JVMs on this machine whose zoo.cfg names one of `clientPorts`, found via /proc. */
async function zooKeeperPids(clientPorts: readonly number[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
    } catch {
      continue; // The process ended while we listed /proc.
    }
    const main = argv.indexOf('org.apache.zookeeper.server.quorum.QuorumPeerMain');
    const configPath = argv[main + 1];
    if (main === -1 || !configPath) continue;
    const port = /^clientPort=(\d+)$/m.exec(await readFile(configPath, 'utf8').catch(() => ''))?.[1];
    if (port && clientPorts.includes(Number(port))) pids.push(Number(entry));
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false; // ESRCH: no such process.
  }
}

describe('a standalone ZooKeeper server', () => {
  let server: ZooKeeperServer;

  beforeAll(async () => {
    server = await startZooKeeper();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves a real client session that creates and reads a znode', async () => {
    expect(server.connectString).toBe(`127.0.0.1:${server.port}`);
    const client = await connect(server.connectString);
    try {
      await create(client, '/hello', 'world');
      const { data, stat } = await getData(client, '/hello');
      expect(data).toBe('world');
      expect(stat.version).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('keeps its data across stop() and restart() on the same port', async () => {
    const client = await connect(server.connectString);
    await create(client, '/persisted', 'before stop');
    await client.close();

    await server.stop();
    await expect(fourLetterWord(server.port, 'srvr')).rejects.toThrow();
    await server.restart();

    expect(await readOnce(server.connectString, '/persisted')).toBe('before stop');
  });

  it('stops answering srvr after kill(), and comes back from the same data', async () => {
    expect(await fourLetterWord(server.port, 'srvr')).toMatch(/^Mode: standalone$/m);
    await server.kill();
    await expect(fourLetterWord(server.port, 'srvr')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.restart();
    expect(await readOnce(server.connectString, '/persisted')).toBe('before stop');
  });

  it('removes its temp dir on close(), and close() may be called twice', async () => {
    expect(existsSync(server.dataDir)).toBe(true);
    await server.close();
    await server.close();
    expect(existsSync(server.dataDir)).toBe(false);
    await expect(fourLetterWord(server.port, 'srvr')).rejects.toThrow();
  });
});

describe('a ZooKeeper server in a directory of its own', () => {
  it('leaves its data there on close(), for a server started there again on the same port', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-zk-kept-'));
    try {
      const first = await startZooKeeper({ dir });
      const client = await connect(first.connectString);
      await create(client, '/kept', 'across servers');
      client.close();
      await first.close();
      expect(existsSync(join(dir, 'data'))).toBe(true);
      expect(first.logPath).toBe(join(dir, 'zookeeper.log'));

      const second = await startZooKeeper({ dir, port: first.port });
      try {
        expect(second.connectString).toBe(first.connectString);
        expect(await readOnce(second.connectString, '/kept')).toBe('across servers');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a ZooKeeper server given a larger heap', () => {
  it('runs its JVM with that heap, as its log says when it starts', async () => {
    const server = await startZooKeeper({ heapMb: 640 });
    try {
      const log = await readFile(server.logPath, 'utf8');
      // The JVM reports a little less than -Xmx (a survivor space is not counted); 256 by default.
      const max = Number(/os\.memory\.max=(\d+)MB/.exec(log)?.[1]);
      expect(max).toBeGreaterThan(500);
      expect(max).toBeLessThanOrEqual(640);
    } finally {
      await server.close();
    }
  });
});

describe('a ZooKeeper server that cannot start', () => {
  it('rejects with the exit code and the log file, whose tail says why', async () => {
    const failure = await startZooKeeper({ minSessionTimeout: 5_000, maxSessionTimeout: 1_000 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LocalServerError);
    expect(failure).toMatchObject({ code: 'ZOOKEEPER_EXITED' });
    const message = (failure as LocalServerError).message;
    expect(message).toMatch(/exited with code [1-9]/);
    expect(message).toMatch(/minSessionTimeout/);
    const logPath = /Log: (\S+)/.exec(message)?.[1];
    expect(logPath && existsSync(logPath)).toBe(true);
  });
});

// One ensemble for every check: each member is a JVM, and the machine has 2 cores.
describe('a 3-member ZooKeeper ensemble', () => {
  let ensemble: ZooKeeperEnsemble;

  beforeAll(async () => {
    ensemble = await startEnsemble(3);
  });

  afterAll(async () => {
    await ensemble?.close();
  });

  it('elects exactly one leader', async () => {
    expect(ensemble.members.map((member) => member.id)).toEqual([1, 2, 3]);
    expect(ensemble.connectString.split(',')).toEqual(ensemble.members.map((member) => member.connectString));
    const modes = await Promise.all(ensemble.members.map((member) => member.mode()));
    expect(modes.toSorted()).toEqual(['follower', 'follower', 'leader']);
    const leader = await ensemble.leader();
    expect(await leader.mode()).toBe('leader');
  });

  it('elects a new leader when the leader is killed, and keeps the data written before', async () => {
    const client = await connect(ensemble.connectString);
    await create(client, '/survivor', 'written before the crash');
    await client.close();

    const oldLeader = await ensemble.leader();
    await oldLeader.kill();
    expect(await oldLeader.mode()).toBe('down');

    await ensemble.waitForQuorum();
    const newLeader = await ensemble.leader();
    expect(newLeader.id).not.toBe(oldLeader.id);
    expect(await readOnce(ensemble.connectString, '/survivor')).toBe('written before the crash');

    await oldLeader.restart();
    expect(await oldLeader.mode()).toBe('follower');
    expect(await readOnce(oldLeader.connectString, '/survivor')).toBe('written before the crash');
  });

  it('stops serving without a quorum and recovers when its members restart one by one', async () => {
    const [first, second, third] = ensemble.members;
    if (!first || !second || !third) throw new Error('expected three members');
    await second.stop();
    await third.stop();
    await waitFor(async () => (await first.mode()) === 'down', {
      description: 'the last member to notice it lost its quorum',
      timeoutMs: 20_000,
    });

    await first.stop();
    // Alone, a member can only listen; restart() must not wait for a quorum that cannot exist yet.
    await first.restart();
    expect(await first.mode()).toBe('down');
    await second.restart();
    await third.restart();
    await ensemble.waitForQuorum();
    expect(await readOnce(ensemble.connectString, '/survivor')).toBe('written before the crash');
  });

  it('leaves no ZooKeeper JVM running after close(), which may be called twice', async () => {
    const ports = ensemble.members.map((member) => member.clientPort);
    const pids = await zooKeeperPids(ports);
    expect(pids).toHaveLength(3);

    await ensemble.close();
    await ensemble.close();

    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(await zooKeeperPids(ports)).toEqual([]);
    expect(await Promise.all(ensemble.members.map((member) => member.mode()))).toEqual([
      'down',
      'down',
      'down',
    ]);
  });
});

describe('a test process that dies', () => {
  const projectRoot = fileURLToPath(new URL('..', import.meta.url));
  const harness = new URL('./zookeeper.ts', import.meta.url).href;

  /** Starts a server from another Node process, as a test worker would, and reports its port and data dir. */
  async function startInChildProcess() {
    const script = `
      import { startZooKeeper } from ${JSON.stringify(harness)};
      const server = await startZooKeeper();
      process.stdout.write(JSON.stringify({ port: server.port, dataDir: server.dataDir }) + '\\n');
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const started = await waitFor(
      () => (output.includes('\n') ? (JSON.parse(output) as { port: number; dataDir: string }) : undefined),
      {
        description: 'the child process to start ZooKeeper',
        timeoutMs: 30_000,
      },
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    return { child, ...started };
  }

  it.each(['SIGKILL', 'SIGTERM'] as const)(
    'takes its ZooKeeper JVMs with it when killed with %s',
    async (signal) => {
      const { child, port, dataDir } = await startInChildProcess();
      try {
        const [jvm] = await zooKeeperPids([port]);
        expect(jvm).toBeDefined();
        const childExited = new Promise((resolve) => child.once('exit', resolve));
        child.kill(signal);
        // The child's own clean-up (SIGTERM) has run once it has exited; the kernel's (SIGKILL) may lag.
        await childExited;
        await waitFor(() => jvm !== undefined && !isAlive(jvm), {
          description: `JVM ${jvm} to die with the process that started it (${signal})`,
          timeoutMs: 10_000,
        });
        // Only a process that gets to run code (SIGTERM, or a normal exit) can remove its temp dirs.
        if (signal === 'SIGTERM') expect(existsSync(dataDir)).toBe(false);
      } finally {
        child.kill('SIGKILL');
        // What a SIGKILLed process leaves behind; its JVM is gone, so nothing writes there any more.
        await rm(dirname(dataDir), { recursive: true, force: true });
      }
    },
  );
});

describe('a process that shuts down gracefully', () => {
  const projectRoot = fileURLToPath(new URL('..', import.meta.url));
  const local = new URL('./index.ts', import.meta.url).href;

  /**
   * A process that starts a server and hands shutdown signals to a listener, which reports whether
   * the server still serves and then, with `stops`, closes it and exits. It leads a process group of
   * its own, so a test can signal the group as a terminal's Ctrl-C does.
   */
  async function startGraceful(stops: boolean) {
    const script = `
      import { fourLetterWord, onShutdownSignal, startZooKeeper } from ${JSON.stringify(local)};
      const server = await startZooKeeper();
      onShutdownSignal(async (signal) => {
        const srvr = await fourLetterWord(server.port, 'srvr').catch(() => '');
        process.stdout.write(JSON.stringify({ signal, serving: /^Mode: standalone$/m.test(srvr) }) + '\\n');
        if (${stops}) {
          await server.close();
          process.exit(0);
        }
      });
      process.stdout.write(JSON.stringify({ port: server.port, dataDir: server.dataDir }) + '\\n');
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const lines: string[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      lines.push(...complete);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const started = await waitFor(
      () => lines[0] && (JSON.parse(lines[0]) as { port: number; dataDir: string }),
      {
        description: 'the child process to start ZooKeeper',
        timeoutMs: 30_000,
      },
    ).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    const [jvm] = await zooKeeperPids([started.port]);
    const report = () =>
      waitFor(() => lines[1] && (JSON.parse(lines[1]) as { signal: string; serving: boolean }), {
        description: 'the shutdown listener to report',
        timeoutMs: 10_000,
      });
    return { child, exited, report, jvm, ...started };
  }

  it('leaves the server running for the listener on Ctrl-C, and exits when the listener has stopped it', async () => {
    const { child, exited, report, jvm, dataDir } = await startGraceful(true);
    try {
      expect(jvm).toBeDefined();
      // Ctrl-C: SIGINT to the terminal's foreground process group, which the JVM is not part of.
      process.kill(-(child.pid as number), 'SIGINT');
      expect(await report()).toEqual({ signal: 'SIGINT', serving: true });
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(jvm !== undefined && isAlive(jvm)).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ends at once, taking the server with it, when a second signal follows later', async () => {
    const { child, exited, report, jvm, dataDir } = await startGraceful(false);
    try {
      child.kill('SIGTERM');
      expect(await report()).toMatchObject({ signal: 'SIGTERM' });
      let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      void exited.then((outcome) => {
        ended = outcome;
      });
      // A person pressing Ctrl-C again: signals within a second of the first count as the same one.
      await waitFor(
        () => {
          if (!ended) child.kill('SIGTERM');
          return ended;
        },
        { description: 'the child to end on a repeated signal', timeoutMs: 10_000, intervalMs: 250 },
      );
      expect(ended).toEqual({ code: null, signal: 'SIGTERM' });
      await waitFor(() => jvm !== undefined && !isAlive(jvm), {
        description: `JVM ${jvm} to die with the process that started it`,
        timeoutMs: 10_000,
      });
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await rm(dirname(dataDir), { recursive: true, force: true });
    }
  });
});
