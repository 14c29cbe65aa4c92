import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDaemon, resolveAgentConfig } from '../../agent/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { waitFor } from '../harness/index.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { publish } from './agent-fixture.js';

const service = (owner: string, seen: string) =>
  [
    'apiVersion: cairn/v1',
    'description: A service whose commands run as its own user.',
    'owners: [team:platform]',
    'files:',
    '  directory: /srv/owned-app',
    `  owner: ${owner}`,
    `check: "id -u > ${seen}/check-uid"`,
    `reload: "id -u > ${seen}/reload-uid; id -G > ${seen}/reload-groups"`,
    'environments:',
    '  dev:',
    '    hosts:',
    '      - host: owned-01',
    '',
  ].join('\n');

// Only root can become another user: elsewhere the agent runs every command as itself (see owner.ts).
describe.skipIf(process.getuid?.() !== 0)('the agent running as root', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  let agent: AgentDaemon;
  let prefix: string;
  let seen: string;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    prefix = await mkdtemp(join(tmpdir(), 'cairn-agent-owned-'));
    seen = await mkdtemp(join(tmpdir(), 'cairn-agent-seen-'));
    await chmod(seen, 0o777); // where the commands, as nobody, say who they ran as
    // In this process, under a prefix, but giving owners as on a host (a prefix alone gives none).
    const config = resolveAgentConfig({ zk: f.zk.connectString, host: 'owned-01', prefix }, {}, prefix);
    agent = new AgentDaemon({ ...config, applyOwner: true }, quietLogger);
    await agent.start();
  });
  afterAll(async () => {
    await agent?.close();
    await f?.close();
    await rm(prefix, { recursive: true, force: true });
    await rm(seen, { recursive: true, force: true });
  });

  const status = () => agent.record().services['owned-app/dev'];

  it('runs the check and the reload as files.owner, with none of root’s groups, and gives it the files', async () => {
    const commit = await publish(f, mirror, 'A service owned by nobody', {
      'services/owned-app/service.yaml': service('nobody', seen),
      'services/owned-app/config/app.yaml': 'a: 1\n',
    });
    await waitFor(() => status()?.state === 'applied' && status()?.commit === commit, {
      description: 'owned-app applied',
      timeoutMs: 30_000,
    });
    expect(await readFile(join(seen, 'check-uid'), 'utf8')).toBe('65534\n');
    expect(await readFile(join(seen, 'reload-uid'), 'utf8')).toBe('65534\n');
    expect(await readFile(join(seen, 'reload-groups'), 'utf8')).toBe('65534\n');
    expect((await stat(join(prefix, 'srv/owned-app/app.yaml'))).uid).toBe(65534);
  });

  it('runs nothing and writes nothing for an owner the host lacks, and says what to do', async () => {
    const before = status()?.commit;
    await publish(f, mirror, 'An owner this host lacks', {
      'services/owned-app/service.yaml': service('no-such-user-here', seen),
      'services/owned-app/config/app.yaml': 'a: 2\n',
    });
    await waitFor(() => status()?.error?.code === 'OWNER_NOT_FOUND', {
      description: 'the missing owner reported',
      timeoutMs: 30_000,
    });
    expect(status()).toMatchObject({ state: 'failed', commit: before });
    expect(status()?.error?.message).toBe(
      'files.owner "no-such-user-here" is not a user on this host: create the user, or change files.owner in service.yaml',
    );
    expect(await readFile(join(prefix, 'srv/owned-app/app.yaml'), 'utf8')).toBe('a: 1\n');
  });
});
