import type { ZkLayout, ZkSession } from '../core/index.js';
import { type Overview, readOverview } from './read-model.js';

type ReadOverview = (session: ZkSession, layout: ZkLayout) => Promise<Overview>;

/**
 * The overview, read once per state of ZooKeeper however many tabs ask: every open tab asks at the
 * same moment (each is told `change` by the same event), and on a 10,000-file repository reading
 * the environments' manifests is what costs. An answer is reused while `/head` has the same version
 * and nothing else under the root changed: the change feed's watch calls `invalidate()` first, for
 * hosts, instances and deployments change without a new commit. Concurrent askers share one read.
 */
export class OverviewCache {
  private readonly read: ReadOverview;
  private readonly watching: () => boolean;
  /** Bumped by every change under the root, and by every new session (changes meanwhile are unseen). */
  private generation = 0;
  private cached: { readonly key: string; readonly overview: Promise<Overview> } | undefined;

  /**
   * `watching` says whether every change under the root reaches `invalidate()` now; while it does
   * not (no watch set yet on a new session), every request reads.
   */
  constructor(watching: () => boolean, read: ReadOverview = readOverview) {
    this.watching = watching;
    this.read = read;
  }

  /** Something under the root changed, or may have: the next request reads again. */
  invalidate(): void {
    this.generation += 1;
  }

  async get(session: ZkSession, layout: ZkLayout): Promise<Overview> {
    // Read before the head, so that a change racing this request leaves a key no later request matches.
    if (!this.watching()) return this.read(session, layout);
    const generation = this.generation;
    const head = await session.exists(layout.head());
    const key = `${head?.mzxid ?? 'none'}:${generation}`;
    if (this.cached?.key === key) return this.cached.overview;
    const overview = this.read(session, layout);
    const entry = { key, overview };
    this.cached = entry;
    // A failed read is not kept: the next request tries again.
    overview.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return overview;
  }
}
