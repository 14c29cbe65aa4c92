import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Overview } from '../../dashboard/index.js';
import { fourLetterWord, waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** A running `cairn start`: what it printed so far, and its exit. */
interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the banner once it is printed. */
  readonly banner: () => Promise<string>;
}

function watch(child: ChildProcess): Started {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    banner: async () => {
      await waitFor(
        () => {
          if (ended) throw new Error(`cairn start exited early:\n${stderr}`);
          return stdout.includes('Ctrl-C stops Cairn');
        },
        { description: 'the banner of cairn start', timeoutMs: 90_000, intervalMs: 100 },
      );
      return stdout;
    },
  };
}

/** A command of the banner's "Try it" block, by the pattern of its line. */
function command(banner: string, pattern: RegExp): string {
  const match = pattern.exec(banner)?.[1];
  if (!match) throw new Error(`no line like ${pattern} in the banner:\n${banner}`);
  return match;
}

/** The agents' prefixes the banner lists, one a line under `agents`. */
function agentPrefixes(banner: string): string[] {
  const block = /^ {2}agents {6}.*\n((?: {14}\S+\n)+)/m.exec(banner)?.[1];
  if (!block) throw new Error(`no agents in the banner:\n${banner}`);
  return block
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.trim());
}

/** Runs banner commands as a person would paste them: the exports and the `cd` first. */
async function paste(banner: string, ...commands: string[]): Promise<string> {
  const prelude = [command(banner, /^ {2}(export CAIRN_ZK=\S+)$/m), command(banner, /^ {2}(cd \S+)$/m)];
  const { stdout } = await run('bash', ['-euc', [...prelude, ...commands].join('\n')]);
  return stdout;
}

describe('cairn start', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'cairn-start-cwd-'));
  });

  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('keeps the repository, its commits and ZooKeeper’s data across a stop, its banner’s commands work as printed, and --fresh starts over', async () => {
    // 1. A first start in an empty directory imports example-config-repo into .cairn/repo.
    const first = watch(spawnCairn(['start'], { CAIRN_LOG_LEVEL: 'info' }, { cwd }));
    try {
      const banner = await first.banner();
      const repo = command(banner, /^ {2}cd (\S+)$/m);
      expect(repo).toBe(join(cwd, '.cairn', 'repo'));
      expect(banner).toContain(`imported from ${join(PROJECT_ROOT, 'example-config-repo')}; 1 commit`);
      expect(banner).toMatch(
        /^ {2}serving {5}[0-9a-f]{7} in dev and staging; prod follows tags v\*: none yet$/m,
      );
      // The dashboard answers at the address the banner gives, with what ZooKeeper holds.
      const dashboard = command(banner, /^ {2}dashboard {3}(http:\/\/\S+\/)$/m);
      expect(await (await fetch(dashboard)).text()).toContain('<title>Cairn</title>');
      const overview = (await (await fetch(`${dashboard}api/overview`)).json()) as Overview;
      expect(overview.status.environments.length).toBeGreaterThan(0);

      // One agent per host of dev, each writing the dev files under its own prefix in .cairn/agents.
      const prefixes = agentPrefixes(banner);
      expect(prefixes).toEqual(
        [
          'edge-dev-01.dc1.northwind.internal',
          'rec-dev-01.dc1.northwind.internal',
          'rec-dev-02.dc1.northwind.internal',
          'reports-dev-01.dc1.northwind.internal',
          'search-dev-01.dc1.northwind.internal',
        ].map((host) => join('.cairn', 'agents', host)),
      );
      const onHost = (prefix: string, path: string) => join(cwd, prefix, path);
      await waitFor(
        () =>
          existsSync(onHost(prefixes[0] as string, 'etc/nginx/nginx.conf')) &&
          existsSync(onHost(prefixes[1] as string, 'etc/recommender/application.yaml')) &&
          existsSync(onHost(prefixes[2] as string, 'etc/recommender/rules/blocklist.yaml')) &&
          existsSync(onHost(prefixes[3] as string, 'etc/nightly-reports/reports.ini')) &&
          existsSync(onHost(prefixes[4] as string, 'etc/search-api/application.properties')),
        { description: 'every agent to write its host’s dev files under its prefix', timeoutMs: 60_000 },
      );
      // The SDK's example service registered as an instance of recommender/dev, serving the head.
      const imported = (await run('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
      const curl = command(banner, /^ {4}(curl -s \S+)$/m);
      expect(JSON.parse(await paste(banner, curl))).toMatchObject({ commit: imported, source: 'zookeeper' });
      const status = command(banner, /^ {4}(.+ status)$/m);
      await waitFor(
        async () => /^recommender +dev +\w+ +\S+ pid \d+ +\w+ +current$/m.test(await paste(banner, status)),
        { description: 'cairn status to list the example service as a current instance', timeoutMs: 30_000 },
      );

      // Not a terminal: every log line is JSON, the agents' and the example service's too.
      const logs = first
        .stderr()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { name: string; msg: string });
      expect(logs.map((record) => `${record.name}: ${record.msg}`)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^start: imported .*example-config-repo as a git repository$/),
          'start: ZooKeeper is serving',
          'syncer: commit mirrored',
          'agent: files applied',
          'recommender: recommender listening',
        ]),
      );
      // Logs go to stderr; stdout holds the banner alone, written whole.
      expect(first.stdout()).toMatch(/^\nCairn is running\.\n.*starts over\.\n$/s);

      // Edit and commit as the banner says (an editor replaced by echo), then see it served.
      const file = command(banner, /^ {4}\$\{EDITOR:-vi\} (\S+)$/m);
      await paste(banner, `echo 'tuned: true' >> ${file}`, command(banner, /^ {4}(git commit -am .+)$/m));
      const changed = (await run('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
      // The commit reaches the hosts' files and the example service, as the banner's commands show.
      const cat = command(banner, /^ {4}(cat \S+)$/m);
      expect(cat).toBe(`cat ${onHost(prefixes[1] as string, 'etc/recommender/application.yaml')}`);
      await waitFor(async () => (await paste(banner, cat)).includes('tuned: true'), {
        description: 'the agent of rec-dev-01 to write the committed file',
        timeoutMs: 30_000,
      });
      await waitFor(async () => JSON.parse(await paste(banner, curl)).commit === changed, {
        description: 'the example service to serve the new commit',
        timeoutMs: 30_000,
      });
      await waitFor(async () => (await paste(banner, status)).includes(`head     ${changed.slice(0, 12)}`), {
        description: 'cairn status to show the new commit',
        timeoutMs: 30_000,
      });
      const get = command(banner, /^ {4}(.+ get recommender dev)$/m);
      expect(await paste(banner, get)).toContain(`# recommender/dev at ${changed}`);

      // The release tag reaches prod; the revert is mirrored like any commit.
      await paste(banner, command(banner, /^ {4}(git tag v1\.0\.0)$/m));
      await waitFor(
        async () =>
          paste(banner, get.replace(/ dev$/, ' prod')).then(
            (out) => out.includes(`at ${changed}`),
            () => false,
          ),
        { description: 'prod to serve the tagged commit', timeoutMs: 30_000 },
      );
      await paste(banner, command(banner, /^ {4}(git revert --no-edit HEAD)$/m));
      const reverted = (await run('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
      await waitFor(async () => (await paste(banner, status)).includes(`head     ${reverted.slice(0, 12)}`), {
        description: 'cairn status to show the revert',
        timeoutMs: 30_000,
      });

      await waitFor(async () => !(await paste(banner, cat)).includes('tuned: true'), {
        description: 'the agent of rec-dev-01 to write the reverted file',
        timeoutMs: 30_000,
      });
      const written = await paste(banner, cat);

      // Ctrl-C: everything stops, and what it made stays.
      first.child.kill('SIGINT');
      expect(await first.exited).toEqual({ code: 0, signal: null });
      // Every child stopped: nobody answers on the ZooKeeper port or the example service's any more.
      const port = Number(command(banner, /^ {2}export CAIRN_ZK=\S+:(\d+)$/m));
      await expect(fourLetterWord(port, 'srvr')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(fetch(curl.replace('curl -s ', ''))).rejects.toThrow();
      expect(existsSync(repo)).toBe(true);
      expect(await readFile(onHost(prefixes[1] as string, 'etc/recommender/application.yaml'), 'utf8')).toBe(
        written,
      );
      expect((await readdir(join(cwd, '.cairn'))).sort()).toEqual([
        '.gitignore',
        'agents',
        'cairn-start.json',
        'repo',
        'sdk-cache',
        'syncer-cache',
        'zookeeper',
      ]);

      // 2. Starting again continues: the same repository, its three commits, the revert still served.
      // On a terminal's format, every part logs lines for people, the agents and the service too.
      const second = watch(
        spawnCairn(
          ['start'],
          { CAIRN_LOG_LEVEL: 'info', CAIRN_LOG_FORMAT: 'pretty', NO_COLOR: '1' },
          { cwd },
        ),
      );
      try {
        const again = await second.banner();
        await waitFor(() => second.stderr().includes(' INFO  recommender recommender listening'), {
          description: 'the example service to log that it listens',
        });
        const lines = second
          .stderr()
          .split('\n')
          .filter((line) => line !== '');
        expect(lines.filter((line) => !/^\d\d:\d\d:\d\d\.\d{3} [A-Z]+ +\S+ /.test(line))).toEqual([]);
        expect(lines).toEqual(
          expect.arrayContaining([
            expect.stringMatching(
              / INFO {2}agent agent started {2}host=rec-dev-01\.dc1\.northwind\.internal /,
            ),
            expect.stringMatching(
              / INFO {2}recommender recommender listening {2}url=http:\/\/127\.0\.0\.1:\d+ /,
            ),
          ]),
        );
        expect(again).toContain('continued: imported from');
        expect(again).toContain('3 commits, the last "Revert "Change recommender""');
        expect(again).toMatch(/prod follows tags v\*: serves v1\.0\.0/);
        expect(again).toMatch(/^ {4}git tag v1\.0\.1$/m);
        expect(await paste(again, command(again, /^ {4}(.+ status)$/m))).toContain(
          `head     ${reverted.slice(0, 12)}`,
        );
        second.child.kill('SIGTERM');
        expect(await second.exited).toEqual({ code: 0, signal: null });
      } finally {
        second.child.kill('SIGKILL');
      }

      // 3. --fresh deletes what cairn start made, says so, and imports anew.
      const third = watch(spawnCairn(['start', '--fresh'], { CAIRN_LOG_LEVEL: 'info' }, { cwd }));
      try {
        const fresh = await third.banner();
        expect(fresh).toContain('; 1 commit, the last "Import');
        const warning = third
          .stderr()
          .split('\n')
          .filter((line) => line.includes('--fresh'))
          .map((line) => JSON.parse(line) as { msg: string; deleting: string });
        expect(warning).toEqual([
          expect.objectContaining({
            msg: 'starting over (--fresh): deleting what cairn start created in the state directory',
            deleting: expect.stringMatching(/repo.*zookeeper/),
          }),
        ]);
        const git = await run('git', ['-C', repo, 'tag', '--list']);
        expect(git.stdout).toBe('');
        third.child.kill('SIGTERM');
        expect(await third.exited).toEqual({ code: 0, signal: null });
      } finally {
        third.child.kill('SIGKILL');
      }
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 300_000);

  it('stops every child, ZooKeeper’s JVM included, when npm start gets SIGTERM', async () => {
    const stateDir = join(cwd, 'npm-state');
    const npm = watch(
      spawn('npm', ['start', '--silent', '--', '--state-dir', stateDir], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CAIRN_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    try {
      const banner = await npm.banner();
      expect(banner).toContain('`npm start -- --state-dir');
      const connectString = command(banner, /^ {2}export CAIRN_ZK=(\S+)$/m);
      const port = Number(connectString.split(':')[1]);
      const jvm = await zooKeeperPid(port);
      expect(jvm).toBeDefined();

      npm.child.kill('SIGTERM');
      await npm.exited;
      await waitFor(() => !isAlive(jvm as number), {
        description: `ZooKeeper's JVM (pid ${jvm}) to stop`,
        timeoutMs: 30_000,
      });
      await waitFor(async () => !(await cairnStartRunning(stateDir)), {
        description: 'the cairn start under npm to exit',
        timeoutMs: 30_000,
      });
    } finally {
      npm.child.kill('SIGKILL');
    }
  }, 180_000);
});

/** The pid of the ZooKeeper JVM whose zoo.cfg has `clientPort=<port>`, found through /proc. */
async function zooKeeperPid(port: number): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv: string[] = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
      (text) => text.split('\0'),
      () => [],
    );
    const main = argv.indexOf('org.apache.zookeeper.server.quorum.QuorumPeerMain');
    const config = argv[main + 1];
    if (main === -1 || !config) continue;
    const cfg = await readFile(config, 'utf8').catch(() => '');
    if (new RegExp(`^clientPort=${port}$`, 'm').test(cfg)) return Number(entry);
  }
  return undefined;
}

/** Whether a process still runs `cairn start` with this state directory. */
async function cairnStartRunning(stateDir: string): Promise<boolean> {
  const { stdout } = await run('ps', ['-eo', 'args']);
  return stdout.split('\n').some((line) => line.includes('start') && line.includes(stateDir));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
