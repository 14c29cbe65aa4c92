import { describe, expect, it } from 'vitest';
import { FencedWriter, type Publication, type ZkOp, type ZkSession } from '../../core/index.js';
import { publish, STAGING_BUDGET_BYTES, TRANSACTION_BUDGET_BYTES } from './publish.js';

/** A session that records the transactions it is given: what publish sends is under test, not ZooKeeper. */
function recordingWriter(): { writer: FencedWriter; transactions: ZkOp[][] } {
  const transactions: ZkOp[][] = [];
  const session = {
    multi: async (ops: readonly ZkOp[]) => {
      transactions.push([...ops]);
    },
  } as unknown as ZkSession;
  return {
    writer: new FencedWriter(session, () => ({ op: 'check', path: '/fence', version: 0 })),
    transactions,
  };
}

function bytesOf(ops: readonly ZkOp[]): number {
  return ops.reduce((sum, op) => sum + op.path.length + ('data' in op && op.data ? op.data.length : 0), 0);
}

/** A publication of `files` new content nodes of 700 bytes and one pointer. */
function publicationOf(files: number): Publication {
  const stage: ZkOp[] = Array.from({ length: files }, (_, i) => ({
    op: 'create',
    path: `/cairn/content/${String(i).padStart(40, '0').slice(0, 2)}/${String(i).padStart(40, '0')}`,
    data: new Uint8Array(700),
  }));
  const flip: ZkOp[] = [{ op: 'set', path: '/cairn/config/svc/prod', data: new Uint8Array(300) }];
  const none = { added: [], changed: [], removed: [] };
  return {
    stage,
    flip,
    environments: { ...none, changed: ['svc/prod'] },
    services: none,
    releases: none,
    newContent: [],
    snapshots: [],
    pointers: new Map(),
  };
}

const head: ZkOp = { op: 'set', path: '/cairn/head', data: new Uint8Array(200), version: 3 };

describe('publish', () => {
  it('stages content in transactions a server keeps little of, then flips with /head in one', async () => {
    const { writer, transactions } = recordingWriter();
    // About 7.5 MB: thousands of files, as a first mirror of a large repository stages.
    const publication = publicationOf(10_000);
    const result = await publish(writer, publication, [head]);

    const flip = transactions.at(-1) as ZkOp[];
    expect(flip.map((op) => op.path)).toEqual(['/fence', '/cairn/config/svc/prod', '/cairn/head']);
    const staging = transactions.slice(0, -1);
    for (const transaction of staging) expect(bytesOf(transaction)).toBeLessThanOrEqual(STAGING_BUDGET_BYTES);
    expect(staging.flatMap((t) => t.filter((op) => op.op === 'create')).length).toBe(10_000);
    expect(result).toMatchObject({ staged: true, splitFlip: false, transactions: transactions.length });
  });

  it('writes a commit that fits one transaction in one', async () => {
    const { writer, transactions } = recordingWriter();
    await publish(writer, publicationOf(100), [head]);
    expect(transactions).toHaveLength(1);
    expect(bytesOf(transactions[0] as ZkOp[])).toBeLessThanOrEqual(TRANSACTION_BUDGET_BYTES);
  });
});
