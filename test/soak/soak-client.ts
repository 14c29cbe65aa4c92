/**
 * A service in its own process, as the restart soak runs twenty of them: it follows the counter
 * with a persistent watch, re-reads on every reconnection (a persistent watch does not replay what
 * changed while disconnected) and reports each new value. It has no handler for uncaught
 * exceptions: a crash is this process exiting, which the soak counts.
 */
import { SessionKeeper, type ZkSession, zooKeeperEndpoint } from '../../core/zookeeper/index.js';
import { COUNTER_PATH, report } from './soak-report.js';

const [connectString = ''] = process.argv.slice(2);
const RETRY_MS = 200;
let last = -1;

class CounterFollower {
  private reading = false;
  private again = false;
  private watching = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly session: ZkSession) {
    session.on('state', (state) => {
      if (state === 'connected') this.refresh();
      if (state === 'expired' || state === 'closed') clearTimeout(this.retry);
    });
  }

  /** Sets the watch if it is not set yet, then reads. Failures retry, on a timer or the next reconnection. */
  refresh(): void {
    void this.watch();
    void this.read();
  }

  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      await this.session.addWatch(COUNTER_PATH, 'persistent', () => void this.read());
    } catch {
      // Transient (the server restarted meanwhile): set it again on the next attempt.
      this.watching = false;
      this.later();
    }
  }

  private async read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        const value = Number((await this.session.get(COUNTER_PATH)).data.toString());
        if (value < last) report({ regressed: { from: last, to: value } });
        if (value > last) {
          last = value;
          report({ seen: value });
        }
      } while (this.again);
    } catch {
      // Transient: read again shortly, and on the next reconnection.
      this.later();
    } finally {
      this.reading = false;
    }
  }

  private later(): void {
    clearTimeout(this.retry);
    if (this.session.state === 'expired' || this.session.state === 'closed') return;
    this.retry = setTimeout(() => this.refresh(), RETRY_MS);
  }
}

const keeper = new SessionKeeper({
  endpoint: zooKeeperEndpoint({
    connectString,
    root: '/cairn',
    sessionTimeoutMs: 10_000,
    requestTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
  }),
});
keeper.on('session', (session) => new CounterFollower(session).refresh());
keeper.start();
process.on('SIGTERM', () => {
  void keeper.close().then(() => process.exit(0));
});
