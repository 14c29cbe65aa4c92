import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionKeeper, WatchedRead, ZkSession, zooKeeperEndpoint } from '../../core/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';

describe('the resync guard of a watched read, against a real ZooKeeper', () => {
  let zk: ZooKeeperServer;
  let writer: ZkSession;
  beforeAll(async () => {
    zk = await startZooKeeper();
    writer = await ZkSession.connect({ connectString: zk.connectString });
  });
  afterAll(async () => {
    await writer?.close();
    await zk?.close();
  });

  it('reads again a change whose watch was lost, and checks at jittered times, not in lockstep', async () => {
    await writer.mkdirp('/resync/node');
    await writer.set('/resync/node', Buffer.from('1'));
    const keeper = new SessionKeeper({
      endpoint: zooKeeperEndpoint({
        connectString: zk.connectString,
        root: '/cairn',
        sessionTimeoutMs: 10_000,
        connectTimeoutMs: 10_000,
        requestTimeoutMs: 10_000,
      }),
    });
    const seen: string[] = [];
    let lastMzxid: bigint | undefined;
    const checks: number[] = [];
    const loop = new WatchedRead<string>({
      keeper,
      // Never sets the watch it is given: the way a watch lost unnoticed looks to the loop.
      read: async (session) => {
        const { data, stat } = await session.get('/resync/node');
        lastMzxid = stat.mzxid;
        return data.toString();
      },
      onRead: (value) => seen.push(value),
      resync: {
        intervalMs: 200,
        changed: async (session) => {
          checks.push(performance.now());
          return (await session.exists('/resync/node'))?.mzxid !== lastMzxid;
        },
      },
    });
    keeper.start();
    loop.start();
    try {
      await waitFor(() => seen.length === 1, { description: 'the first read' });
      await writer.set('/resync/node', Buffer.from('2'));
      await waitFor(() => seen.includes('2'), { description: 'the change read by the resync check' });
      await waitFor(() => checks.length >= 6, { description: 'six resync checks' });
      const gaps = checks.slice(1).map((at, i) => at - (checks[i] as number));
      // ±20 % of 200 ms: gaps spread over 160–240 ms plus scheduling delay, never all the same.
      expect(gaps.every((gap) => gap >= 150)).toBe(true);
      expect(new Set(gaps.map((gap) => Math.round(gap))).size).toBeGreaterThan(1);
      // Read once when it changed, not again at every later check.
      expect(seen.filter((value) => value === '2')).toHaveLength(1);
      expect(seen.at(-1)).toBe('2');
    } finally {
      await loop.close();
      await keeper.close();
    }
  });
});
