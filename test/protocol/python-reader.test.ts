import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironment } from '../../core/index.js';
import { waitFor } from '../harness/index.js';
import { boundMirror, commitAndSync } from '../sdk/sdk-test-support.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** Written from docs/zookeeper-protocol.md only, with another ZooKeeper client (kazoo). */
const READER = fileURLToPath(new URL('../../docs/examples/cairn_reader.py', import.meta.url));
/** Debian's interpreter, where python3-kazoo installs (scripts/install-system-deps.sh --tests). */
const PYTHON = '/usr/bin/python3';

interface ReaderLine {
  readonly event: 'snapshot' | 'absent';
  readonly commit?: string;
  readonly tag?: string | null;
  readonly mirrored?: boolean;
  readonly files?: Record<string, string>;
  readonly contents?: Record<string, string>;
}

function readOnce(args: string[]): Promise<{ code: number; lines: ReaderLine[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, [READER, '--once', ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      const lines = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as ReaderLine);
      resolve({ code, lines, stderr });
    });
  });
}

describe('a reader in another language, written from the protocol document', () => {
  let f: SyncerFixture;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    await boundMirror(f).sync();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await f?.close();
  });
  const zk = () => ['--zk', f.zk.connectString];

  it('reads every environment exactly as Cairn’s own reader does', async () => {
    for (const [service, env] of [
      ['recommender', 'dev'],
      ['recommender', 'prod'],
      ['search-api', 'staging'],
      ['edge-gateway', 'dev'],
      ['nightly-reports', 'prod'],
    ] as const) {
      const { code, lines, stderr } = await readOnce([...zk(), '--service', service, '--env', env]);
      expect(code, stderr).toBe(0);
      const expected = await readEnvironment(f.session, f.layout, service, env);
      if (expected.kind !== 'snapshot') throw new Error(`${service}/${env} is not mirrored`);
      const [line] = lines;
      expect(line?.event).toBe('snapshot');
      expect(line?.commit).toBe(expected.snapshot.pointer.revision.commit);
      expect(line?.files).toEqual(Object.fromEntries(expected.snapshot.contentIds));
      for (const [path, bytes] of expected.snapshot.files)
        expect(
          Buffer.from(line?.contents?.[path] ?? '', 'base64').equals(bytes),
          `${service}/${env}/${path}`,
        ).toBe(true);
    }
  });

  it('tells a missing environment from nothing mirrored', async () => {
    const missing = await readOnce([...zk(), '--service', 'no-such-service', '--env', 'dev']);
    expect(missing.lines).toEqual([{ event: 'absent', mirrored: true }]);
    const elsewhere = await readOnce([
      ...zk(),
      '--root',
      '/nothing-here',
      '--service',
      'recommender',
      '--env',
      'dev',
    ]);
    expect(elsewhere.lines).toEqual([{ event: 'absent', mirrored: false }]);
  });

  it('follows commits through its watch, one whole snapshot each', async () => {
    const child = spawn(PYTHON, [READER, ...zk(), '--service', 'recommender', '--env', 'dev'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    const lines: ReaderLine[] = [];
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part));
    });
    await waitFor(() => lines.length === 1, { timeoutMs: 60_000, description: 'the first snapshot' });
    const mirror = boundMirror(f);
    const commit = await commitAndSync(f, mirror, 'Fewer results in dev', {
      'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 11\n',
      'services/recommender/config/rules/extra.yaml': 'extra: true\n',
    });
    await waitFor(() => lines.length === 2, { timeoutMs: 60_000, description: 'the snapshot of the commit' });
    const second = lines[1] as ReaderLine;
    expect(second.commit).toBe(commit);
    expect(Object.keys(second.files ?? {})).toContain('rules/extra.yaml');
    expect(Buffer.from(second.contents?.['application.yaml'] ?? '', 'base64').toString('utf8')).toContain(
      'maxResults: 11',
    );
    child.stdin?.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });

  it('reports content its pointer names that is gone while the pointer stays, instead of serving a mix', async () => {
    const read = await readEnvironment(f.session, f.layout, 'nightly-reports', 'staging');
    if (read.kind !== 'snapshot') throw new Error('nightly-reports/staging is not mirrored');
    const [, id] = [...read.snapshot.contentIds].find(([path]) => path === 'export.toml') as [string, string];
    await f.session.remove(f.layout.content(id));
    const { code, lines, stderr } = await readOnce([
      ...zk(),
      '--service',
      'nightly-reports',
      '--env',
      'staging',
    ]);
    expect(code).toBe(3);
    expect(lines).toEqual([]);
    expect(stderr).toContain('missing or damaged');
  });
});
