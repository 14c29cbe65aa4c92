import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_RECORD_FORMAT, serializeApprovalRecord } from '../../core/index.js';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { waitFor } from '../harness/index.js';
import { lastRequestIds, normalise, watchesBySession } from '../support/server-sessions.js';
import { NOTES_REFSPEC, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** What the server says each client session sent and watches, apart from the fixture's own session. */
async function clientSessions(f: SyncerFixture): Promise<Map<string, bigint>> {
  const sessions = await lastRequestIds(f.zk.port);
  sessions.delete(normalise(f.session.sessionId));
  return sessions;
}

describe('readers of configuration watch only what they read', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    await mirror.sync(f.target);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await f?.close();
  });

  const client = async (service: string, env: string) => {
    const config = await connect({ zk: f.zk.connectString, service, env, instance: false });
    clients.push(config);
    return config;
  };

  it('a commit to one service makes no client of another service read anything, and a late approval record wakes nobody', async () => {
    const others = await Promise.all([
      client('search-api', 'dev'),
      client('search-api', 'staging'),
      client('edge-gateway', 'dev'),
      client('recommender', 'staging'),
    ]);
    const otherSessions = await clientSessions(f);
    expect(otherSessions.size).toBe(others.length);
    // Each watches its own environment's pointer, and, for a gateway that drains during deploys,
    // its host's assignment beside it; nobody watches /head.
    const watches = await watchesBySession(f.zk.port);
    expect([...otherSessions.keys()].map((sid) => watches.get(sid)).sort()).toEqual(
      [
        [f.layout.environment('search-api', 'dev')],
        [f.layout.environment('search-api', 'staging')],
        [f.layout.assignment('edge-gateway', 'dev', hostname()), f.layout.environment('edge-gateway', 'dev')],
        [f.layout.environment('recommender', 'staging')],
      ].sort(),
    );

    const mine = await client('recommender', 'dev');
    await f.work.write({
      'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 12\n',
    });
    const commit = await f.work.commit('Tune recommender in dev');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    await waitFor(() => mine.commit === commit, {
      description: 'the recommender/dev client applies the commit',
    });

    const after = await clientSessions(f);
    for (const [sid, lcxid] of otherSessions) expect(after.get(sid), `session 0x${sid}`).toBe(lcxid);
    const mySession = [...after.keys()].find((sid) => !otherSessions.has(sid)) as string;
    expect(after.get(mySession)).toBeGreaterThan(0n);

    // The bot's approval record arrives after the merge: it goes to the history record, which no
    // client watches.
    const note = serializeApprovalRecord({
      format: APPROVAL_RECORD_FORMAT,
      repository: 'northwind/config',
      pr: 12,
      mergeCommit: commit,
      headSha: commit,
      baseRef: 'main',
      policyCommit: commit,
      mergedBy: 'priya-raman',
      satisfied: true,
      rules: [],
      recordedAt: new Date().toISOString(),
    });
    await f.work.git('notes', '--ref', 'cairn-approvals', 'add', '-m', note, commit);
    await f.work.push(f.repoUrl, NOTES_REFSPEC);
    expect(await mirror.sync(f.target)).toMatchObject({ kind: 'up-to-date', commit });
    expect(await clientSessions(f)).toEqual(after);
    for (const other of others) expect(other.commit).not.toBe(commit);
  });
});
