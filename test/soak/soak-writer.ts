/**
 * The writer of the restart soak: increments the counter with version-checked writes, one every
 * few milliseconds (the soak is about restarts, not throughput), and reports every acknowledged value. A write whose answer was lost
 * (connection loss) may have been applied: it is not reported, and the next read tells.
 * Stops when a line arrives on stdin.
 */
import { once } from 'node:events';
import { setTimeout as pause } from 'node:timers/promises';
import { SessionKeeper, ZkError, type ZkSession, zooKeeperEndpoint } from '../../core/zookeeper/index.js';
import { COUNTER_PATH, report } from './soak-report.js';

const [connectString = ''] = process.argv.slice(2);
const WRITE_INTERVAL_MS = 5;
let stopping = false;
process.stdin.once('data', () => {
  stopping = true;
});

const keeper = new SessionKeeper({
  endpoint: zooKeeperEndpoint({
    connectString,
    root: '/cairn',
    sessionTimeoutMs: 10_000,
    requestTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
  }),
});
keeper.start();

async function connected(): Promise<ZkSession> {
  for (;;) {
    const session = keeper.session;
    if (session?.state === 'connected') return session;
    // A reconnection says `state`; a new session after an expiry says `session`.
    const change = new AbortController();
    await Promise.race([
      once(keeper, 'state', { signal: change.signal }),
      once(keeper, 'session', { signal: change.signal }),
    ]).finally(() => change.abort());
  }
}

while (!stopping) {
  const session = await connected();
  try {
    const { data, stat } = await session.get(COUNTER_PATH);
    const next = Number(data.toString()) + 1;
    await session.set(COUNTER_PATH, Buffer.from(String(next)), stat.version);
    report({ ack: next });
    await pause(WRITE_INTERVAL_MS);
  } catch (error) {
    // BAD_VERSION follows a write applied whose answer was lost; after a transient failure the
    // loop waits for a connection. Anything else is a bug the soak must see.
    if (!(error instanceof ZkError) || !(error.transient || error.code === 'BAD_VERSION')) throw error;
  }
}
await keeper.close();
report({ stopped: true });
process.exit(0);
