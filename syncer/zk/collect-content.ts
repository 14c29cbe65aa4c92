import {
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHistoryRecord,
  decodePinRecord,
  type FencedWriter,
  ZkError,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../../core/index.js';
import { historySeqs } from './history.js';
import { readContentIds } from './read-published-state.js';

const REMOVALS_PER_TRANSACTION = 500;

export interface CollectionResult {
  /** Content nodes still referenced (or staged for a commit not yet published). */
  readonly kept: number;
  /** The ids of the content nodes deleted. */
  readonly removed: readonly string[];
  /** Content that a kept snapshot references but ZooKeeper lacks: the mirror must write it again. */
  readonly missing: readonly string[];
}

/**
 * Deletes content nodes nobody needs: those referenced neither by an environment pointer, nor by the
 * snapshots of the last `retention` mirrored commits (their history records say which), nor by a pin.
 * Content created after the last publication (`czxid` above `/head`'s `mzxid`) is staged for a commit
 * in flight and is kept whatever it is. Run by the leader between syncs, never during one.
 */
export class ContentCollector {
  private readonly layout: ZkLayout;
  /** Manifests are immutable: what one lists is read once. */
  private readonly manifestFiles = new Map<string, readonly string[] | undefined>();

  constructor(layout: ZkLayout) {
    this.layout = layout;
  }

  async collect(writer: FencedWriter, retention: number): Promise<CollectionResult> {
    const { session } = writer;
    const { layout } = this;
    const head = await session.getIfExists(layout.head());
    if (!head) return { kept: 0, removed: [], missing: [] };
    const present = await readContentIds(session, layout);

    const manifests = new Set<string>([
      ...(await this.pointerManifests(session)),
      ...(await this.recentManifests(writer, retention)),
      ...(await this.pinnedManifests(session)),
    ]);
    const keep = new Set<string>();
    const missing = new Set<string>();
    for (const manifest of manifests) {
      keep.add(manifest);
      const files = await this.filesOf(session, manifest, present);
      if (!files) {
        if (!present.has(manifest)) missing.add(manifest);
        continue;
      }
      for (const id of files) {
        keep.add(id);
        if (!present.has(id)) missing.add(id);
      }
    }

    const candidates = [...present].filter((id) => !keep.has(id));
    const removable: string[] = [];
    for (const id of candidates) {
      const stat = await session.exists(layout.content(id));
      if (stat && stat.czxid <= head.stat.mzxid) removable.push(id);
    }
    for (let i = 0; i < removable.length; i += REMOVALS_PER_TRANSACTION) {
      const ops = removable
        .slice(i, i + REMOVALS_PER_TRANSACTION)
        .map((id): ZkOp => ({ op: 'remove', path: layout.content(id) }));
      await removeTolerant(writer, ops);
    }
    for (const id of removable) this.manifestFiles.delete(id);
    return { kept: present.size - removable.length, removed: removable, missing: [...missing] };
  }

  private async pointerManifests(session: ZkSession): Promise<string[]> {
    const { layout } = this;
    const out: string[] = [];
    for (const service of await session.childrenIfExists(layout.configDir())) {
      for (const env of await session.childrenIfExists(layout.configService(service))) {
        const path = layout.environment(service, env);
        const node = await session.getIfExists(path);
        if (node) out.push(decodeEnvironmentPointer(node.data, path).manifest);
      }
    }
    return out;
  }

  /** The snapshots the last `retention` commits served: before and after each change they made. */
  private async recentManifests(writer: FencedWriter, retention: number): Promise<string[]> {
    const { layout } = this;
    const out: string[] = [];
    for (const seq of (await historySeqs(writer, layout)).slice(0, retention)) {
      const path = layout.historyRecord(seq);
      const node = await writer.session.getIfExists(path);
      if (!node) continue;
      for (const change of decodeHistoryRecord(node.data, path).snapshots) {
        if (change.from) out.push(change.from);
        if (change.to) out.push(change.to);
      }
    }
    return out;
  }

  private async pinnedManifests(session: ZkSession): Promise<string[]> {
    const { layout } = this;
    const out: string[] = [];
    for (const name of await session.childrenIfExists(layout.pinsDir())) {
      const path = layout.pin(name);
      const node = await session.getIfExists(path);
      if (node) out.push(...decodePinRecord(node.data, path).snapshots);
    }
    return out;
  }

  /** The content ids a manifest lists, or undefined when the manifest itself is missing. */
  private async filesOf(
    session: ZkSession,
    manifest: string,
    present: ReadonlySet<string>,
  ): Promise<readonly string[] | undefined> {
    if (this.manifestFiles.has(manifest)) return this.manifestFiles.get(manifest);
    if (!present.has(manifest)) return undefined;
    const path = this.layout.content(manifest);
    const node = await session.getIfExists(path);
    if (!node) return undefined;
    const files = [...decodeEnvironmentManifest(node.data, path).files.values()];
    this.manifestFiles.set(manifest, files);
    return files;
  }
}

async function removeTolerant(writer: FencedWriter, ops: ZkOp[]): Promise<void> {
  let remaining = ops;
  while (remaining.length > 0) {
    try {
      await writer.multi(remaining);
      return;
    } catch (error) {
      // Gone already (an earlier removal whose answer was lost): drop it and remove the rest.
      if (!(error instanceof ZkError && error.code === 'NO_NODE' && error.opIndex !== undefined)) throw error;
      const index = error.opIndex;
      remaining = remaining.filter((_, i) => i !== index);
    }
  }
}
