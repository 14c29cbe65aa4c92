import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  contentId,
  encodeEnvironmentManifest,
  encodeEnvironmentPointer,
  OWNER_FILE,
} from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { waitFor } from '../harness/index.js';
import { runCairnWithin } from '../support/cairn-process.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  type AgentProcess,
  agentRecord,
  DEMO_FILES,
  DEMO_SERVICE,
  demoStatus,
  publish,
  startAgent,
} from './agent-fixture.js';

describe('the host agent', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  const agents: AgentProcess[] = [];
  let n = 0;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    await publish(f, mirror, 'Add the demo service', {
      'services/demo-app/service.yaml': DEMO_SERVICE,
      ...DEMO_FILES(0),
    });
  });
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  });
  afterAll(async () => {
    await f?.close();
  });

  const agent = async (host = 'demo-01', extra: readonly string[] = []) => {
    const started = await startAgent(f, host, extra);
    agents.push(started);
    return started;
  };
  const next = () => ++n;
  const applied = (host: string, commit: string) =>
    demoStatus(
      f,
      host,
      (s) => s.state === 'applied' && s.commit === commit,
      `${host} applies ${commit.slice(0, 7)}`,
    );

  it('writes the environment’s files with their mode, and one reload for a commit of three files', async () => {
    const a = await agent();
    const first = await applied('demo-01', (await f.work.head()) as string);
    expect(await a.file('app.yaml')).toBe('version: 0\n');
    expect((await stat(join(a.directory, 'rules/a.yaml'))).mode & 0o777).toBe(0o640);
    expect(first.files).toEqual({
      'app.yaml': contentId(Buffer.from('version: 0\n')),
      'rules/a.yaml': contentId(Buffer.from('a: 0\n')),
      'rules/b.yaml': contentId(Buffer.from('b: 0\n')),
    });
    const reloadsBefore = (await a.reloads()).length;
    const commit = await publish(f, mirror, 'Change three files', DEMO_FILES(next()));
    await applied('demo-01', commit);
    expect(await a.file('rules/b.yaml')).toBe(`b: ${n}\n`);
    expect((await a.reloads()).slice(reloadsBefore)).toEqual([commit]);
    // Nothing else in the folder: no temp files left behind.
    expect((await readdir(a.directory)).sort()).toEqual(['app.yaml', 'rules']);
  });

  it('reports a commit it checked and reloaded in one write of its record', async () => {
    await agent();
    await applied('demo-01', (await f.work.head()) as string);
    const before = (await f.session.get(f.layout.agent('demo-01'))).stat.version;
    const commit = await publish(f, mirror, 'Change three files', DEMO_FILES(next()));
    const status = await applied('demo-01', commit);
    expect(status.lastRun).toMatchObject({ step: 'reload', exitCode: 0 });
    expect((await f.session.get(f.layout.agent('demo-01'))).stat.version).toBe(before + 1);
  });

  it('puts the previous files back and reports the commit rejected when the check fails; the next good commit applies', async () => {
    const a = await agent();
    const good = await publish(f, mirror, 'A good change', DEMO_FILES(next()));
    await applied('demo-01', good);
    const reloadsBefore = (await a.reloads()).length;
    const bad = await publish(f, mirror, 'A change the check refuses', {
      'services/demo-app/config/app.yaml': 'version: bad\nfail: true\n',
      'services/demo-app/config/rules/a.yaml': 'a: bad\n',
    });
    const status = await demoStatus(f, 'demo-01', (s) => s.state === 'rejected', 'the rejection reported');
    expect(status.rejected).toMatchObject({ commit: bad, run: { step: 'check', exitCode: 1 } });
    expect(status.commit).toBe(good);
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    expect(await a.file('rules/a.yaml')).toBe(`a: ${n}\n`);
    expect((await a.reloads()).length).toBe(reloadsBefore);
    const fixed = await publish(f, mirror, 'Fix it', DEMO_FILES(next()));
    const after = await applied('demo-01', fixed);
    expect(after.rejected).toBeUndefined();
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
  });

  it('kills a reload that hangs at its timeout, puts the previous files back and reloads them', async () => {
    const a = await agent();
    const good = await publish(f, mirror, 'Before the hang', DEMO_FILES(next()));
    await applied('demo-01', good);
    await publish(f, mirror, 'A reload that hangs', {
      'services/demo-app/config/app.yaml': 'version: hang\nhang: true\n',
    });
    const status = await demoStatus(f, 'demo-01', (s) => s.state === 'rejected', 'the hung reload rejected');
    expect(status.rejected?.run).toMatchObject({ step: 'reload', timedOut: true });
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    // The previous files were reloaded again.
    expect((await a.reloads()).at(-1)).toBe(good);
  });

  it('never writes outside its directory: a link planted in it, a manifest with escaping paths', async () => {
    const a = await agent();
    const good = await publish(f, mirror, 'Before the link', DEMO_FILES(next()));
    await applied('demo-01', good);
    const outside = await mkdtemp(join(tmpdir(), 'cairn-outside-'));
    try {
      await symlink(outside, join(a.directory, 'linked'));
      await publish(f, mirror, 'A file under the planted link', {
        'services/demo-app/config/linked/escape.yaml': 'escaped: true\n',
      });
      const failed = await demoStatus(f, 'demo-01', (s) => s.state === 'failed', 'the unsafe write refused');
      expect(failed.error).toMatchObject({
        code: 'UNSAFE_TARGET',
        message: expect.stringContaining('symbolic link'),
      });
      expect(await readdir(outside)).toEqual([]);
      // Every file stays as the last applied commit left it.
      expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);

      // A pointer to a manifest that names paths outside the folder (written by hand: the syncer
      // never would) is refused when read: nothing is written.
      const escaping = encodeEnvironmentManifest({
        files: new Map([['../../escaped.yaml', contentId(Buffer.from('x\n'))]]),
      });
      await f.session.create(f.layout.content(contentId(escaping)), escaping).catch(() => undefined);
      const pointer = f.layout.environment('demo-app', 'dev');
      const { data } = await f.session.get(pointer);
      await f.session.set(
        pointer,
        encodeEnvironmentPointer({
          revision: { commit: 'e'.repeat(40), author: { name: 'x', email: 'x@x' }, message: 'x', time: '' },
          manifest: contentId(escaping),
          files: 1,
          bytes: 2,
        }),
      );
      await waitFor(() => a.logs().includes('is not a safe file path'), {
        description: 'the agent refusing the manifest',
      });
      expect((await agentRecord(f, 'demo-01'))?.services['demo-app/dev']?.commit).toBe(good);
      await expect(readFile(join(a.prefix, 'srv/escaped.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(readFile(join(a.prefix, 'escaped.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
      await f.session.set(pointer, data);
    } finally {
      await rm(join(a.directory, 'linked'), { force: true });
      await rm(outside, { recursive: true, force: true });
      await publish(f, mirror, 'Drop the file under the link', {
        'services/demo-app/config/linked/escape.yaml': null,
      });
    }
  });

  it('repairs a file edited by hand and reports the drift', async () => {
    const a = await agent();
    const commit = await publish(f, mirror, 'Before the edit', DEMO_FILES(next()));
    await applied('demo-01', commit);
    const reloadsBefore = (await a.reloads()).length;
    await writeFile(join(a.directory, 'rules/a.yaml'), 'a: edited by hand\n');
    const status = await demoStatus(
      f,
      'demo-01',
      (s) => s.drift.some((d) => d.file === 'rules/a.yaml' && d.repaired),
      'the drift reported',
    );
    expect(status.drift[0]?.since).toMatch(/^\d{4}-/);
    await waitFor(async () => (await a.file('rules/a.yaml')) === `a: ${n}\n`, {
      description: 'the file repaired',
    });
    await waitFor(async () => (await a.reloads()).length > reloadsBefore, {
      description: 'a reload after the repair',
    });
  });

  it('keeps the files and runs while ZooKeeper is stopped, and catches up when it returns', async () => {
    const a = await agent();
    const before = await publish(f, mirror, 'Before the outage', DEMO_FILES(next()));
    await applied('demo-01', before);
    await f.zk.stop();
    try {
      // Drift is still repaired from the agent's own copies.
      await writeFile(join(a.directory, 'app.yaml'), 'tampered\n');
      await waitFor(async () => (await a.file('app.yaml')) === `version: ${n}\n`, {
        description: 'the file repaired without ZooKeeper',
      });
      expect(a.process.exitCode).toBeNull();
    } finally {
      await f.zk.restart();
    }
    await f.renewSession();
    const after = await publish(f, mirror, 'After the outage', DEMO_FILES(next()));
    await applied('demo-01', after);
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
  });

  it('after being killed in the middle of a swap, leaves one whole commit on disk', async () => {
    const a = await agent('demo-01', ['--command-timeout', '60s']);
    const mode = join(a.prefix, 'srv/mode');
    const checking = join(a.prefix, 'srv/checking');
    // A check that waits until told to pass or fail.
    await mkdir(join(a.prefix, 'srv'), { recursive: true });
    await writeFile(mode, 'pass\n');
    const good = await publish(f, mirror, 'A check that can wait', {
      'services/demo-app/service.yaml': DEMO_SERVICE.replace(
        /check: .*\n/,
        'check: "touch ../checking; while grep -q wait ../mode; do sleep 0.05; done; grep -q pass ../mode"\n',
      ),
      ...DEMO_FILES(next()),
    });
    await applied('demo-01', good);
    const kept = n;
    await rm(checking, { force: true });
    await writeFile(mode, 'wait\n');
    await publish(f, mirror, 'A commit whose check waits', DEMO_FILES(next()));
    await waitFor(
      async () =>
        stat(checking).then(
          () => true,
          () => false,
        ),
      {
        description: 'the check running',
        timeoutMs: 30_000,
      },
    );
    // The new files are on disk, not yet checked: kill the agent now.
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    await a.kill('SIGKILL');
    await writeFile(mode, 'fail\n');
    await a.restart();
    const status = await demoStatus(
      f,
      'demo-01',
      (s) => s.state === 'rejected',
      'the commit rejected after the restart',
    );
    expect(status.commit).toBe(good);
    // The previous commit, whole.
    expect(await a.file('app.yaml')).toBe(`version: ${kept}\n`);
    expect(await a.file('rules/a.yaml')).toBe(`a: ${kept}\n`);
    expect(await a.file('rules/b.yaml')).toBe(`b: ${kept}\n`);
    await publish(f, mirror, 'Back to the plain check', {
      'services/demo-app/service.yaml': DEMO_SERVICE,
      ...DEMO_FILES(next()),
    });
  });

  it('removes at start the temp files a killed agent left, and none of a live process or that it did not write', async () => {
    const a = await agent();
    await applied('demo-01', (await f.work.head()) as string);
    await a.kill('SIGKILL');
    const state = join(a.prefix, 'var/lib/cairn-agent');
    const [shard] = await readdir(join(state, 'content'));
    const alive = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const gone = spawnSync('true').pid as number;
      const temp = (name: string, pid: number) => `.${name}.cairn-${pid}-0123456789ab.tmp`;
      const stale = [
        join(a.directory, temp('app.yaml', gone)),
        join(a.directory, 'rules', temp('a.yaml', gone)),
        join(state, 'services', temp('demo-app@prod.json', gone)),
        join(state, 'content', shard as string, temp('f'.repeat(64), gone)),
        join(state, temp('deployed-versions.json', gone)),
      ];
      const kept = [
        join(a.directory, temp('app.yaml', alive.pid as number)),
        join(state, 'services', temp('demo-app@prod.json', alive.pid as number)),
        join(a.directory, `.app.yaml.cairn-${gone}-0123456789ab.tmp.orig`),
        join(a.directory, `.app.yaml.swp`),
        join(a.directory, 'rules', `.a.yaml.cairn-${gone}.tmp`),
      ];
      for (const path of [...stale, ...kept]) await writeFile(path, 'partial');
      await a.restart();
      const exists = (path: string) =>
        access(path).then(
          () => true,
          () => false,
        );
      await waitFor(async () => (await Promise.all(stale.map(exists))).every((found) => !found), {
        description: 'the stale temp files removed',
        timeoutMs: 30_000,
      });
      expect(await Promise.all(kept.map(exists))).toEqual(kept.map(() => true));
    } finally {
      alive.kill();
      await once(alive, 'exit');
    }
  });

  it('refuses to start on a state directory another live agent holds, which runs on', async () => {
    const a = await agent();
    // This agent's own claim, not a record an earlier test's agent left until its session expires:
    // started before this one holds the directory, the second would win it.
    const owner = join(a.prefix, 'var/lib/cairn-agent', OWNER_FILE);
    await waitFor(async () => JSON.parse(await readFile(owner, 'utf8')).pid === a.process.pid, {
      description: `${owner} naming the first agent`,
      timeoutMs: 30_000,
    });
    await applied('demo-01', (await f.work.head()) as string);
    const second = await runCairnWithin(120_000, [
      'agent',
      '--zk',
      f.zk.connectString,
      '--host',
      'demo-01',
      '--prefix',
      a.prefix,
    ]);
    expect(second.killed).toBe(false);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`is in use by another process (agent pid ${a.process.pid} on `);
    expect(second.stderr).toContain('give each agent its own --state-dir');
    expect(second.stderr).not.toMatch(/^\s+at /m);
    // The first agent still holds its directory and applies the next commit.
    const commit = await publish(f, mirror, 'A commit after the refused start', DEMO_FILES(next()));
    await applied('demo-01', commit);
  });

  it('stops managing a host removed from service.yaml: its files stay, reported unmanaged, unless prune', async () => {
    const a = await agent('demo-02');
    const commit = await publish(f, mirror, 'Both hosts', DEMO_FILES(next()));
    await applied('demo-02', commit);
    await publish(f, mirror, 'Retire demo-02', {
      'services/demo-app/service.yaml': DEMO_SERVICE.replace('      - host: demo-02\n', ''),
    });
    await demoStatus(f, 'demo-02', (s) => s.state === 'unmanaged', 'demo-02 unmanaged');
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    // Back, with prune: then removed again, its files go.
    await publish(f, mirror, 'demo-02 again, pruning', {
      'services/demo-app/service.yaml': DEMO_SERVICE.replace(
        '  mode: "0640"\n',
        '  mode: "0640"\n  prune: true\n',
      ),
    });
    await demoStatus(f, 'demo-02', (s) => s.state === 'applied', 'demo-02 managed again');
    await publish(f, mirror, 'Retire demo-02 for good', {
      'services/demo-app/service.yaml': DEMO_SERVICE.replace('      - host: demo-02\n', '').replace(
        '  mode: "0640"\n',
        '  mode: "0640"\n  prune: true\n',
      ),
    });
    await waitFor(async () => (await a.file('app.yaml')) === undefined, { description: 'demo-02 pruned' });
    expect(
      await stat(a.directory).then(
        () => true,
        () => false,
      ),
    ).toBe(true);
    await publish(f, mirror, 'Restore the demo service', { 'services/demo-app/service.yaml': DEMO_SERVICE });
  });

  it('shows in cairn status which declared hosts applied, rejected or have no agent', async () => {
    await agent('demo-01');
    const good = await publish(f, mirror, 'For the status', DEMO_FILES(next()));
    await applied('demo-01', good);
    const applied1 = await runCliCaptured(['status', '--zk', f.zk.connectString]);
    expect(applied1.stdout).toContain(
      'demo-app/dev  1/2 applied, 0 rejected, 0 behind, 1 without an agent (demo-02)',
    );
    await publish(f, mirror, 'Refused on demo-01', { 'services/demo-app/config/app.yaml': 'fail: true\n' });
    await demoStatus(f, 'demo-01', (s) => s.state === 'rejected', 'the rejection');
    const rejected = await runCliCaptured(['status', '--zk', f.zk.connectString]);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('demo-app/dev  0/2 applied, 1 rejected (demo-01: check exited 1)');
    await publish(f, mirror, 'Fixed', DEMO_FILES(next()));
  });

  it('starts managing a host added to the service tree at once', async () => {
    const a = await agent('demo-03');
    await publish(f, mirror, 'Add demo-03', {
      'services/demo-app/service.yaml': DEMO_SERVICE.replace(
        '      - host: demo-02\n',
        '      - host: demo-02\n      - host: demo-03\n',
      ),
    });
    await demoStatus(f, 'demo-03', (s) => s.state === 'applied', 'demo-03 managed');
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    await publish(f, mirror, 'Remove demo-03', { 'services/demo-app/service.yaml': DEMO_SERVICE });
  });

  it('refuses two services whose directories overlap on the host: both reported, nothing written for either', async () => {
    const a = await agent('demo-01');
    const before = await publish(f, mirror, 'Before the overlap', DEMO_FILES(next()));
    await applied('demo-01', before);
    const nested = (directory: string) =>
      DEMO_SERVICE.replace('/srv/demo-app', directory)
        .replace('A service the agent tests', 'A second service the agent tests')
        .replace('      - host: demo-02\n', '');
    await publish(f, mirror, 'A service inside demo-app’s directory', {
      'services/nested-app/service.yaml': nested('/srv/demo-app/nested'),
      'services/nested-app/config/app.yaml': 'nested: true\n',
    });
    const refused = await demoStatus(
      f,
      'demo-01',
      (s) => s.error?.code === 'DIRECTORY_CONFLICT',
      'demo-app refused for the overlap',
    );
    expect(refused).toMatchObject({ state: 'failed', commit: before });
    expect(refused.error?.message).toContain(
      `of demo-app/dev overlaps ${join(a.prefix, 'srv/demo-app/nested')}, the directory of nested-app/dev on this host`,
    );
    const other = (await agentRecord(f, 'demo-01'))?.services['nested-app/dev'];
    expect(other).toMatchObject({ state: 'failed', error: { code: 'DIRECTORY_CONFLICT' } });
    expect(other?.commit).toBeUndefined();
    expect(a.logs()).toContain('refusing nested-app/dev');
    expect(await a.file('app.yaml')).toBe(`version: ${n}\n`);
    expect(await a.file('nested/app.yaml')).toBeUndefined();

    await publish(f, mirror, 'nested-app gets a directory of its own', {
      'services/nested-app/service.yaml': nested('/srv/nested-app'),
    });
    await applied('demo-01', before);
    await waitFor(
      async () =>
        (await readFile(join(a.prefix, 'srv/nested-app/app.yaml'), 'utf8').catch(() => '')) ===
        'nested: true\n',
      { description: 'nested-app written in its own directory' },
    );
    expect(await a.file('nested/app.yaml')).toBeUndefined();
    await publish(f, mirror, 'Remove nested-app', {
      'services/nested-app/service.yaml': null,
      'services/nested-app/config/app.yaml': null,
    });
  });
});
