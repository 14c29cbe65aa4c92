import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnClient, type Lease } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

describe('active/standby when the active instance is cut off', () => {
  let f: SyncerFixture;
  let proxy: TcpProxy;
  const clients: CairnClient[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: f.zk.port });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await proxy?.close();
    await f?.close();
  });

  it('ends the lease as soon as the connection drops, before the server can elect another', async () => {
    const timeline: { who: string; event: 'active' | 'standby'; at: number }[] = [];
    const leases = new Map<string, Lease>();
    const join = async (who: string, zk: string) => {
      const client = new CairnClient({ zk, sessionTimeoutMs: 4000, service: 'nightly-reports', env: 'dev' });
      clients.push(client);
      return client.elect('nightly-export', {
        candidateId: who,
        onActive: (lease) => {
          leases.set(who, lease);
          timeline.push({ who, event: 'active', at: Date.now() });
        },
        onStandby: () => timeline.push({ who, event: 'standby', at: Date.now() }),
      });
    };
    const cutOff = await join('cut-off', proxy.connectString);
    expect(cutOff.state).toBe('active');
    const other = await join('other', f.zk.connectString);
    expect(other.state).toBe('standby');
    expect(await other.activeId()).toBe('cut-off');
    const lease = leases.get('cut-off') as Lease;
    expect(lease.isValid()).toBe(true);
    expect(await lease.confirm()).toBe(true);

    proxy.partition();
    await waitFor(() => !lease.isValid(), { description: 'the lease ending with the connection' });
    expect(lease.signal.aborted).toBe(true);
    expect(cutOff.state).not.toBe('active');
    await waitFor(() => other.state === 'active', {
      timeoutMs: 60_000,
      description: 'the other taking over',
    });
    // It came back on a new session, behind the other: a standby.
    proxy.heal();
    await waitFor(() => cutOff.state === 'standby', {
      timeoutMs: 60_000,
      description: 'the cut-off one rejoining',
    });
    expect(await cutOff.activeId()).toBe('other');

    // Never two at once: the cut-off one's lease ended before the other's began.
    const ended = timeline.find(
      (e) => e.who === 'cut-off' && e.event === 'standby' && e.at >= (timeline[0]?.at ?? 0),
    );
    const began = timeline.find((e) => e.who === 'other' && e.event === 'active');
    expect(ended && began && ended.at <= began.at).toBe(true);
    expect(timeline.filter((e) => e.event === 'active').map((e) => e.who)).toEqual(['cut-off', 'other']);
  });
});
