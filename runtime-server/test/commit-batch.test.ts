import { CommitBatch } from '../src/runtime/commit-batch.js';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { runRecord, stepCommit, stepLog } from './storage-contract.js';

describe('CommitBatch', () => {
  it('should write the added commits together and run `landed` only for those written', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    await store.leases.acquireMany(['ws/c1', 'ws/c2'], 'p1', 0, 1e12);
    const batch = new CommitBatch(store);
    const landed: string[] = [];
    const commitOf = (runId: string, leaseKey: string) =>
      stepCommit({ leaseKey, run: runRecord({ id: runId }), stepLogs: [{ ...stepLog(0, 'waiting'), runId }] });
    batch.add(commitOf('run-a', 'ws/c1'), 'entry-a', () => landed.push('a'));
    batch.add(commitOf('run-b', 'ws/not-leased'), 'entry-b', () => landed.push('b'));
    batch.add(commitOf('run-c', 'ws/c2'), 'entry-c', () => landed.push('c'));
    expect(landed).toEqual([]);
    expect(await store.runs.get('ws', 'run-a')).toBeUndefined();

    await batch.flush();
    expect(landed).toEqual(['a', 'c']);
    expect(batch.failureOf('entry-a')).toBeUndefined();
    expect(batch.failureOf('entry-b')).toMatchObject({ code: 'LEASE_LOST' });
    expect((await store.runs.get('ws', 'run-c'))?.id).toBe('run-c');
    expect(await store.runs.get('ws', 'run-b')).toBeUndefined();

    // A flush writes only what was added since the last one.
    await batch.flush();
    expect(landed).toEqual(['a', 'c']);
    await store.close();
  });

  it("should let the lease go with the entry's last commit, and report the key only once that landed", async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    await store.leases.acquireMany(['ws/c1', 'ws/c2'], 'p1', 0, 1e12);
    const batch = new CommitBatch(store);
    const commitOf = (runId: string, leaseKey: string) =>
      stepCommit({ leaseKey, run: runRecord({ id: runId }), stepLogs: [{ ...stepLog(0, 'waiting'), runId }] });
    batch.add(commitOf('run-a1', 'ws/c1'), 'entry-a', () => undefined);
    batch.add(commitOf('run-a2', 'ws/c1'), 'entry-a', () => undefined);
    batch.add(commitOf('run-b', 'ws/c2'), 'entry-b', () => undefined);
    expect(batch.releaseWithLastOf('entry-a')).toBe(true);
    expect(batch.releaseWithLastOf('entry-none')).toBe(false);
    await batch.flush();
    expect([...batch.releasedKeys]).toEqual(['ws/c1']);
    // Both of entry-a's commits landed (the first still held the lease), and the key is free now.
    expect((await store.runs.get('ws', 'run-a1'))?.id).toBe('run-a1');
    expect((await store.runs.get('ws', 'run-a2'))?.id).toBe('run-a2');
    expect(await store.leases.acquire('ws/c1', 'p2', 1, 2)).toBe(true);
    expect(await store.leases.acquire('ws/c2', 'p2', 1, 2)).toBe(false);

    // A releasing commit that fails (the lease is p2's now) releases nothing and reports nothing.
    const again = new CommitBatch(store);
    again.add(commitOf('run-a3', 'ws/c1'), 'entry-c', () => undefined);
    again.releaseWithLastOf('entry-c');
    await again.flush();
    expect(again.failureOf('entry-c')).toMatchObject({ code: 'LEASE_LOST' });
    expect([...again.releasedKeys]).toEqual([]);
    expect(await store.leases.acquire('ws/c1', 'p3', 1, 2)).toBe(false);
    await store.close();
  });

  it('should keep the first failure of an entry, whether its processing or its commit failed', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    const batch = new CommitBatch(store);
    batch.fail('entry-x', new Error('bad payload'));
    batch.add(stepCommit({}), 'entry-x', () => undefined);
    await batch.flush();
    expect(batch.failureOf('entry-x')?.message).toBe('bad payload');
    await store.close();
  });
});
