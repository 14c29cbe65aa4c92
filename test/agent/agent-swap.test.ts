import { type FileHandle, mkdtemp, open, readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentDaemon, type CommandRunner, resolveAgentConfig } from '../../agent/index.js';
import { runCommand } from '../../agent/run-command.js';
import type { Mirror } from '../../syncer/mirror.js';
import { waitFor } from '../harness/index.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { publish } from './agent-fixture.js';

const SERVICE = [
  'apiVersion: cairn/v1',
  'description: A service whose swaps the tests hold at their fsyncs.',
  'owners: [team:platform]',
  'files:',
  '  directory: /srv/swap-app',
  'reload: echo "$CAIRN_COMMIT" >> ../reloads.log',
  'environments:',
  '  dev:',
  '    hosts:',
  '      - host: swap-01',
  '',
].join('\n');

/**
 * Holds the fsyncs of the folders given, or of files under them when `files`, until released: what
 * a slow disk does, made to last as long as a test needs; after `failHeld`, they fail instead, as a
 * failing disk's do. `held` counts the fsyncs waiting, `synced` names every file and folder
 * fsynced (or asked to be) meanwhile.
 */
async function holdSyncs(): Promise<{
  hold(path: string, what: 'folder' | 'files'): void;
  failHeld(error: Error): void;
  release(): void;
  readonly held: number;
  readonly synced: readonly string[];
  restore(): void;
}> {
  const probe = await open(tmpdir(), 'r');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.sync;
  const paths: { path: string; what: 'folder' | 'files' }[] = [];
  let released: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  let held = 0;
  let failure: Error | undefined;
  const synced: string[] = [];
  const spy = vi.spyOn(prototype, 'sync').mockImplementation(async function (this: FileHandle) {
    const path = await readlink(`/proc/self/fd/${this.fd}`).catch(() => '');
    synced.push(path);
    if (paths.some((p) => (p.what === 'folder' ? path === p.path : path.startsWith(`${p.path}/`)))) {
      if (failure) throw failure;
      held++;
      await released;
      held--;
    }
    return original.call(this);
  });
  return {
    hold(path, what) {
      paths.push({ path, what });
      released = new Promise((resolve) => {
        release = resolve;
      });
    },
    failHeld(error) {
      failure = error;
    },
    release() {
      paths.length = 0;
      failure = undefined;
      release();
    },
    get held() {
      return held;
    },
    synced,
    restore() {
      release();
      spy.mockRestore();
    },
  };
}

describe('a swap’s durable writes', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  let agent: AgentDaemon;
  let prefix: string;
  /** The commits whose reload the agent handed over, in order. */
  const handed: string[] = [];
  let syncs: Awaited<ReturnType<typeof holdSyncs>>;
  let n = 0;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    prefix = await realpath(await mkdtemp(join(tmpdir(), 'cairn-agent-swap-')));
    const told: CommandRunner = (options) => {
      if (options.step === 'reload') handed.push(options.env.CAIRN_COMMIT ?? '');
      return runCommand(options);
    };
    const config = resolveAgentConfig({ zk: f.zk.connectString, host: 'swap-01', prefix }, {}, prefix);
    agent = new AgentDaemon(config, quietLogger, { runCommand: told });
    await agent.start();
  });
  afterEach(() => syncs?.restore());
  afterAll(async () => {
    await agent?.close();
    await f?.close();
    await rm(prefix, { recursive: true, force: true });
  });

  const status = () => agent.record().services['swap-app/dev'];
  const applied = (commit: string) =>
    waitFor(() => status()?.state === 'applied' && status()?.commit === commit, {
      description: `${commit} applied`,
      timeoutMs: 30_000,
    });
  const commitOnce = async (message: string) => {
    const files = { 'services/swap-app/config/app.yaml': `n: ${++n}\n` };
    return publish(
      f,
      mirror,
      message,
      n === 1 ? { 'services/swap-app/service.yaml': SERVICE, ...files } : files,
    );
  };

  it('hands the reload over while the folder’s fsync is under way, and records the commit only once it is durable', async () => {
    await applied(await commitOnce('The service'));
    syncs = await holdSyncs();
    syncs.hold(join(prefix, 'srv/swap-app'), 'folder');
    const commit = await commitOnce('A commit whose folder fsync is slow');
    await waitFor(() => handed.includes(commit), {
      description: 'the reload handed over, the folder not yet fsynced',
      timeoutMs: 30_000,
    });
    await waitFor(() => syncs.held > 0, { description: 'the folder’s fsync waiting', timeoutMs: 30_000 });
    expect(status()?.commit).not.toBe(commit);
    syncs.release();
    await applied(commit);
  });

  it('writes and fsyncs the files beside their targets while the journal is made durable, and puts none in place before', async () => {
    await applied(await commitOnce('Before'));
    const before = await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8');
    syncs = await holdSyncs();
    syncs.hold(join(prefix, 'var/lib/cairn-agent/journal'), 'files');
    const commit = await commitOnce('A commit whose journal is slow to be durable');
    const staged = (path: string) => /\/srv\/swap-app\/\.app\.yaml\.cairn-[0-9]+-[0-9a-f]+\.tmp$/.test(path);
    await waitFor(() => syncs.held > 0 && syncs.synced.some(staged), {
      description: 'app.yaml staged and fsynced, the journal not yet durable',
      timeoutMs: 30_000,
    });
    expect(await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8')).toBe(before);
    expect(handed).not.toContain(commit);
    syncs.release();
    await applied(commit);
    expect(await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8')).toBe(`n: ${n}\n`);
    expect(await readdir(join(prefix, 'srv/swap-app'))).toEqual(['app.yaml']);
  });

  it('puts the files in place once the journal is durable, before its copies of the content are, and runs no command before they are', async () => {
    await applied(await commitOnce('Before'));
    syncs = await holdSyncs();
    syncs.hold(join(prefix, 'var/lib/cairn-agent/content'), 'files');
    const commit = await commitOnce('A commit whose content copy is slow to be durable');
    const bytes = `n: ${n}\n`;
    await waitFor(
      async () =>
        syncs.held > 0 &&
        (await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8').catch(() => '')) === bytes,
      { description: 'app.yaml in place, the copy of its content not yet durable', timeoutMs: 30_000 },
    );
    expect(handed).not.toContain(commit);
    expect(status()?.commit).not.toBe(commit);
    syncs.release();
    await applied(commit);
    expect(handed.filter((c) => c === commit)).toHaveLength(1);
  });

  it('puts the previous files back, runs nothing and retries when its copy of the content cannot be written', async () => {
    await applied(await commitOnce('Before'));
    const before = await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8');
    syncs = await holdSyncs();
    syncs.hold(join(prefix, 'var/lib/cairn-agent/content'), 'files');
    syncs.failHeld(new Error('EIO: the disk failed the fsync'));
    const commit = await commitOnce('A commit whose content copy fails');
    const bytes = `n: ${n}\n`;
    await waitFor(() => status()?.error?.message.includes('EIO') === true, {
      description: 'the failed copy reported',
      timeoutMs: 30_000,
    });
    expect(await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8')).toBe(before);
    expect(await readdir(join(prefix, 'srv/swap-app'))).toEqual(['app.yaml']);
    expect(handed).not.toContain(commit);
    syncs.release();
    await applied(commit);
    expect(await readFile(join(prefix, 'srv/swap-app/app.yaml'), 'utf8')).toBe(bytes);
    expect(handed.filter((c) => c === commit)).toHaveLength(1);
  });
});
