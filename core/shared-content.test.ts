import { describe, expect, it } from 'vitest';
import { SharedContent } from './shared-content.js';

const ID = 'a'.repeat(40);
const bytes = (text: string) => new Uint8Array(Buffer.from(text));

/** A read that resolves when told to, and counts its calls. */
function controlledRead(result: () => Uint8Array | undefined | Error) {
  let calls = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    read: async () => {
      calls++;
      await gate;
      const value = result();
      if (value instanceof Error) throw value;
      return value;
    },
    release: () => release(),
    calls: () => calls,
  };
}

describe('content shared by the readers of a process', () => {
  it('makes reads of one id that overlap once, and serves what it holds without reading', async () => {
    const store = new SharedContent();
    const content = bytes('n: 1\n');
    const first = controlledRead(() => content);
    const second = controlledRead(() => bytes('never read'));
    const reads = [store.read(ID, first.read), store.read(ID, second.read)];
    first.release();
    const [a, b] = await Promise.all(reads);
    expect(a).toBe(content);
    expect(b).toBe(content);
    expect([first.calls(), second.calls()]).toEqual([1, 0]);
    const third = controlledRead(() => bytes('never read'));
    expect(await store.read(ID, third.read)).toBe(content);
    expect(third.calls()).toBe(0);
    expect(store.get(ID)).toBe(content);
  });

  it("reads on its own when another reader's read fails or finds nothing", async () => {
    for (const outcome of [() => new Error('connection loss'), () => undefined]) {
      const store = new SharedContent();
      const failing = controlledRead(outcome);
      const own = bytes('mine');
      const waiting = controlledRead(() => own);
      const first = store.read(ID, failing.read).catch((error: unknown) => error);
      const second = store.read(ID, waiting.read);
      failing.release();
      waiting.release();
      await first;
      expect(await second).toBe(own);
      expect(waiting.calls()).toBe(1);
      // What the second reader found is held for the next.
      expect(store.get(ID)).toBe(own);
    }
  });

  it('holds nothing it was not given, and keeps the first bytes offered for an id', () => {
    const store = new SharedContent();
    expect(store.get(ID)).toBeUndefined();
    const kept = bytes('first');
    store.keep(ID, kept);
    store.keep(ID, bytes('second'));
    expect(store.get(ID)).toBe(kept);
  });

  it('offers the files a manifest names, as one reader assembled them, while a reader holds them', () => {
    const store = new SharedContent();
    expect(store.files(ID)).toBeUndefined();
    const files = new Map([['a.yaml', bytes('a: 1\n')]]);
    store.keepFiles(ID, files);
    expect(store.files(ID)).toBe(files);
    // The first offer stands: readers keep sharing one map.
    store.keepFiles(ID, new Map(files));
    expect(store.files(ID)).toBe(files);
  });

  it('assembles the files of one manifest once among readers that overlap, and alone after a failure', async () => {
    const store = new SharedContent();
    const files = new Map([['a.yaml', bytes('a: 1\n')]]);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const assemble = async () => {
      calls++;
      await gate;
      return files;
    };
    const both = [store.assembleFiles(ID, assemble), store.assembleFiles(ID, assemble)];
    release();
    expect(await Promise.all(both)).toEqual([files, files]);
    expect((await both[1]) === files && calls).toBe(1);
    expect(store.files(ID)).toBe(files);

    const other = 'b'.repeat(40);
    const failing = store.assembleFiles(other, async () => {
      throw new Error('connection loss');
    });
    const own = new Map([['b.yaml', bytes('b: 1\n')]]);
    const second = store.assembleFiles(other, async () => own);
    await expect(failing).rejects.toThrow('connection loss');
    expect(await second).toBe(own);
  });
});
