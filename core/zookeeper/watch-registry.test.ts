import { describe, expect, it } from 'vitest';
import { EventType } from './protocol/op-codes.js';
import { WatchRegistry } from './watch-registry.js';

const listener = (name: string, log: string[]) => (event: { type: string; path: string }) =>
  log.push(`${name}:${event.type}:${event.path}`);

function fire(registry: WatchRegistry, type: number, path: string): void {
  const triggered = registry.materialize(type, path);
  for (const l of triggered?.listeners ?? []) l(triggered!.event);
}

describe('WatchRegistry', () => {
  it('fires a one-shot watch once, and every listener of the path', () => {
    const registry = new WatchRegistry();
    const log: string[] = [];
    registry.add('data', '/a', listener('one', log));
    registry.add('data', '/a', listener('two', log));
    fire(registry, EventType.nodeDataChanged, '/a');
    fire(registry, EventType.nodeDataChanged, '/a');
    expect(log).toEqual(['one:changed:/a', 'two:changed:/a']);
    expect(registry.empty).toBe(true);
  });

  it('gives a deletion to data and child watches, a creation to exist watches, children only to child watches', () => {
    const registry = new WatchRegistry();
    const log: string[] = [];
    registry.add('data', '/a', listener('data', log));
    registry.add('child', '/a', listener('child', log));
    registry.add('exist', '/b', listener('exist', log));
    fire(registry, EventType.nodeCreated, '/b');
    fire(registry, EventType.nodeDeleted, '/a');
    registry.add('data', '/c', listener('data', log));
    fire(registry, EventType.nodeChildrenChanged, '/c');
    expect(log).toEqual(['exist:created:/b', 'data:deleted:/a', 'child:deleted:/a']);
    expect(registry.snapshot().data).toEqual(['/c']);
  });

  it('keeps persistent watches, and gives a recursive one its subtree but no children events', () => {
    const registry = new WatchRegistry();
    const log: string[] = [];
    registry.add('persistent', '/a', listener('p', log));
    registry.add('persistent-recursive', '/a', listener('r', log));
    fire(registry, EventType.nodeDataChanged, '/a');
    fire(registry, EventType.nodeChildrenChanged, '/a');
    fire(registry, EventType.nodeCreated, '/a/b/c');
    fire(registry, EventType.nodeDataChanged, '/ab');
    expect(log).toEqual(['p:changed:/a', 'r:changed:/a', 'p:children:/a', 'r:created:/a/b/c']);
    expect(registry.snapshot()).toMatchObject({ persistent: ['/a'], persistentRecursive: ['/a'] });
  });

  it('calls a listener set several ways for one event once', () => {
    const registry = new WatchRegistry();
    const log: string[] = [];
    const both = listener('both', log);
    registry.add('data', '/a', both);
    registry.add('persistent-recursive', '/', both);
    fire(registry, EventType.nodeDataChanged, '/a');
    expect(log).toEqual(['both:changed:/a']);
  });

  it('says when a path has no watch left, so the server may forget it', () => {
    const registry = new WatchRegistry();
    const p = () => {};
    const d = () => {};
    registry.add('persistent', '/a', p);
    registry.add('data', '/a', d);
    expect(registry.remove('persistent', '/a', p)).toBe(false);
    fire(registry, EventType.nodeDataChanged, '/a');
    expect(registry.watches('/a')).toBe(false);
  });

  it('ignores state notifications', () => {
    const registry = new WatchRegistry();
    registry.add('data', '/a', () => {});
    expect(registry.materialize(EventType.none, '/a')).toBeUndefined();
  });
});
