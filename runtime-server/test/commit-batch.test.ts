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
