import { builtinCatalogue } from '@convoflow/nodes';
import { FlowCache } from '../src/runtime/flow-cache.js';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { FlowVersionRecord } from '../src/storage/storage-port.js';
import { chainFlow } from './api-support.js';

/** A published flow of `nodes` nodes (set_variable ... end): it weighs nodes + 10. */
async function publish(store: SqliteStore, id: string, nodes: number): Promise<FlowVersionRecord> {
  const steps: Parameters<typeof chainFlow>[2] = Array.from({ length: nodes - 1 }, (_, i) => [
    `set${i}`,
    'set_variable',
    { assignments: [{ variable: 'n', value: i }] },
    'next',
  ]);
  const flow = chainFlow(id, { id: 'api', type: 'api', params: {} }, [...steps, ['end', 'end', {}]]);
  flow.variables = [{ name: 'n', type: 'number', default: 0 }];
  await store.flows.create({ workspaceId: 'ws', draft: flow, at: 1 });
  return store.flows.publish('ws', id, 'ann', 2);
}

describe('FlowCache', () => {
  let store: SqliteStore;

  beforeEach(async () => {
    store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    for (const id of ['a', 'b', 'c']) await publish(store, id, 10);
  });

  afterEach(() => store.close());

  it('should keep compiled versions up to its bound in nodes, dropping the least recently used', async () => {
    const cache = new FlowCache(store, builtinCatalogue, 50); // two flows of 10 nodes (20 each)
    const a = await cache.get('ws', 'a', 1);
    const b = await cache.get('ws', 'b', 1);
    expect(await cache.get('ws', 'a', 1)).toBe(a); // a is now the most recently used
    await cache.get('ws', 'c', 1); // 60 > 50: b goes
    expect(await cache.get('ws', 'a', 1)).toBe(a);
    const bAgain = await cache.get('ws', 'b', 1); // compiled again; c goes
    expect(bAgain).not.toBe(b);
    expect(bAgain.flow.id).toBe('b');
  });

  it('should keep one version heavier than its bound while it is the one in use', async () => {
    await publish(store, 'large', 60);
    const cache = new FlowCache(store, builtinCatalogue, 50);
    const a = await cache.get('ws', 'a', 1);
    const large = await cache.get('ws', 'large', 1);
    expect(await cache.get('ws', 'large', 1)).toBe(large);
    expect(await cache.get('ws', 'a', 1)).not.toBe(a);
  });

  it('should count a version compiled by two callers at once once', async () => {
    const cache = new FlowCache(store, builtinCatalogue, 40); // exactly two flows
    const [a1, a2] = await Promise.all([cache.get('ws', 'a', 1), cache.get('ws', 'a', 1)]);
    expect(a2).toBe(a1);
    await cache.get('ws', 'b', 1);
    expect(await cache.get('ws', 'a', 1)).toBe(a1);
  });

  it('should refuse a version the store does not have', async () => {
    await expect(new FlowCache(store, builtinCatalogue).get('ws', 'b', 7)).rejects.toThrow('Flow b has no published version 7');
  });
});
