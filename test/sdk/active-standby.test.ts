import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { boundMirror } from './sdk-test-support.js';

const EXAMPLE = fileURLToPath(new URL('../../sdk/examples/nightly-reports.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SESSION_TIMEOUT_MS = 4000;

/** One instance of the example job in its own process, and the log lines it printed. */
interface Instance {
  readonly name: string;
  readonly process: ChildProcess;
  readonly lines: { msg: string; time: number; term?: number; step?: number }[];
  exited: boolean;
}

describe('active/standby: one nightly-reports instance exports at a time', () => {
  let f: SyncerFixture;
  const instances: Instance[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    await boundMirror(f).sync();
  });
  afterAll(async () => {
    for (const instance of instances) if (!instance.exited) instance.process.kill('SIGKILL');
    await f?.close();
  });

  const start = (name: string): Instance => {
    const child = spawn(process.execPath, ['--import', TSX, EXAMPLE], {
      env: {
        ...process.env,
        CAIRN_ZK: f.zk.connectString,
        CAIRN_ENV: 'dev',
        CAIRN_ZK_SESSION_TIMEOUT: `${SESSION_TIMEOUT_MS}ms`,
        STEP_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const instance: Instance = { name, process: child, lines: [], exited: false };
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('{')) instance.lines.push(JSON.parse(line));
        newline = buffer.indexOf('\n');
      }
    });
    child.on('exit', () => {
      instance.exited = true;
    });
    instances.push(instance);
    return instance;
  };
  const said = (instance: Instance, msg: string) => instance.lines.filter((line) => line.msg === msg);
  const role = (instance: Instance) => {
    const last = instance.lines.filter((line) => line.msg === 'active' || line.msg === 'standby').at(-1);
    return last?.msg;
  };

  it('makes one instance active; a standby takes over within the session timeout of a SIGKILL, at once on a clean stop; never two at once', async () => {
    const [a, b, c] = [start('a'), start('b'), start('c')];
    const all = [a, b, c] as Instance[];
    await waitFor(() => all.every((i) => role(i) !== undefined), {
      timeoutMs: 60_000,
      description: 'every instance joined',
    });
    await waitFor(() => all.filter((i) => role(i) === 'active').length === 1, {
      description: 'one active instance',
    });
    const first = all.find((i) => role(i) === 'active') as Instance;
    expect(all.filter((i) => role(i) === 'standby')).toHaveLength(2);
    const dir = f.layout.election('nightly-reports', 'dev', 'nightly-export');
    expect((await f.session.children(dir)).children).toHaveLength(3);
    await waitFor(() => said(first, 'export step').length >= 3, {
      description: 'the active instance exporting',
    });

    // A crash: nothing steps down; the node goes when the server expires the session.
    first.process.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => first.exited, { description: 'the active instance dead' });
    const rest = all.filter((i) => i !== first);
    await waitFor(() => rest.some((i) => role(i) === 'active'), {
      timeoutMs: 60_000,
      description: 'a standby taking over',
    });
    const second = rest.find((i) => role(i) === 'active') as Instance;
    const tookOverAfter = (said(second, 'active')[0]?.time as number) - killedAt;
    // The server expires a session on its next tick (500 ms) after the timeout; the rest is this machine's load.
    expect(tookOverAfter).toBeGreaterThan(0);
    expect(tookOverAfter).toBeLessThan(SESSION_TIMEOUT_MS + 3000);
    await waitFor(() => said(second, 'export step').length >= 3, {
      description: 'the new active instance exporting',
    });

    // A clean stop removes the candidate node: the last standby takes over without waiting for a timeout.
    const third = rest.find((i) => i !== second) as Instance;
    second.process.kill('SIGTERM');
    const stoppedAt = Date.now();
    await waitFor(() => role(third) === 'active', { description: 'the last standby taking over' });
    expect((said(third, 'active')[0]?.time as number) - stoppedAt).toBeLessThan(SESSION_TIMEOUT_MS);
    await waitFor(() => said(third, 'export step').length >= 3, {
      description: 'the last instance exporting',
    });
    await waitFor(() => second.exited, { description: 'the stopped instance exited' });

    // Never two at once: sorted by time, the export steps of each instance form one unbroken run,
    // and each run starts after the one before ended.
    const steps = all
      .flatMap((i) => said(i, 'export step').map((line) => ({ instance: i.name, time: line.time })))
      .sort((x, y) => x.time - y.time);
    const runs = steps.map((s) => s.instance).filter((name, i, names) => i === 0 || names[i - 1] !== name);
    expect(runs).toEqual([first.name, second.name, third.name]);
    expect(said(second, 'export stopped: no longer active')).toHaveLength(1);
    expect(said(third, 'export step')[0]?.time).toBeGreaterThanOrEqual(
      said(second, 'export step').at(-1)?.time as number,
    );
    third.process.kill('SIGTERM');
    await waitFor(() => third.exited, { description: 'the last instance exited' });
  });
});
