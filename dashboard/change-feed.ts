import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  CoalescingTrigger,
  errorLogFields,
  type SessionKeeper,
  type ZkLayout,
  type ZkSession,
} from '../core/index.js';

/** At most one update per this interval, however busy ZooKeeper is (a rollout writes log chunks). */
const COALESCE_MS = 250;
/** A comment line now and then keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 25_000;

/**
 * The server-sent-event streams of open pages (one per tab): each is told `change` when anything
 * under Cairn's root changed, through one persistent recursive watch shared by every stream, and
 * reads again what it shows. Bursts collapse into one event per interval.
 */
export class ChangeFeed {
  private readonly streams = new Set<ServerResponse>();
  private readonly trigger: CoalescingTrigger;
  private readonly heartbeat: NodeJS.Timeout;
  private removeWatch: (() => Promise<void>) | undefined;
  /** The session whose watch is set: changes are seen only while it is the current one. */
  private watchedSession: ZkSession | undefined;
  private readonly keeper: SessionKeeper;
  private seq = 0;

  private readonly logger: Logger;

  /**
   * `onChange` is called at once on every change under the root and on every new or regained
   * session, before any stream is told: a page that reads on `change` never gets an answer older
   * than the change.
   */
  constructor(keeper: SessionKeeper, layout: ZkLayout, logger: Logger, onChange: () => void = () => {}) {
    this.logger = logger;
    this.keeper = keeper;
    this.trigger = new CoalescingTrigger(
      async () => {
        this.seq += 1;
        for (const stream of this.streams) stream.write(`event: change\ndata: ${this.seq}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      },
      { retry: false },
    );
    this.heartbeat = setInterval(() => {
      for (const stream of this.streams) stream.write(': still here\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    // A watch lives as long as its session: set it again on every new one.
    keeper.on('session', (session) => {
      session
        .addWatch(layout.root, 'persistent-recursive', () => {
          onChange();
          this.trigger.request();
        })
        .then((remove) => {
          this.removeWatch = remove;
          this.watchedSession = session;
        })
        .catch((error: unknown) =>
          this.logger.warn(
            errorLogFields(error),
            'the dashboard cannot watch ZooKeeper; pages update on reconnect',
          ),
        );
      onChange();
      this.trigger.request();
    });
    // Changes made while disconnected are not replayed: pages read again once connected.
    keeper.on('state', (state) => {
      if (state !== 'connected') return;
      onChange();
      this.trigger.request();
    });
  }

  /** Opens a stream on `response`; it ends when the page closes it (a hidden tab) or the feed closes. */
  open(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    response.write(`retry: 2000\nevent: hello\ndata: ${this.seq}\n\n`);
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  /** Whether every change under the root is seen now (the watch is set on the current session). */
  get watching(): boolean {
    const session = this.keeper.session;
    return session !== undefined && session === this.watchedSession && this.keeper.connected;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.trigger.close();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    await this.removeWatch?.().catch(() => {
      // The session is closing with it: nothing to remove.
    });
  }
}
