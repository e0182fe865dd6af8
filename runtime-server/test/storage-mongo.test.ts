import { randomUUID } from 'node:crypto';
import { createMongoStore, type MongoStore } from '../src/storage/mongoose/mongo-store.js';
import type { StoragePort } from '../src/storage/storage-port.js';
import { describeStorageContract, journalInput, runRecord, sendEffect, stepCommit, stepLog } from './storage-contract.js';

// No MongoDB server can run on our machines: these run where MONGODB_URI points at a replica set
// (transactions need one), e.g. `docker run -p 27017:27017 mongo:8 --replSet rs0` + `rs.initiate()`.
const uri = process.env.MONGODB_URI;
const d = uri ? describe : describe.skip;

const openStore = async (dbName: string): Promise<MongoStore> => {
  const store = createMongoStore({ uri: uri ?? '', dbName });
  await store.migrate();
  return store;
};
const dropAndClose = async (store: StoragePort): Promise<void> => {
  await (store as MongoStore).connection.dropDatabase();
  await store.close();
};

describeStorageContract('mongo', () => openStore(`convoflow_test_${randomUUID()}`), dropAndClose, d);

d('mongo store: two connections on one database', () => {
  let a: MongoStore;
  let b: MongoStore;
  beforeEach(async () => {
    const dbName = `convoflow_test_${randomUUID()}`;
    a = await openStore(dbName);
    b = await openStore(dbName);
  });
  afterEach(async () => {
    await b.close();
    await dropAndClose(a);
  });

  it('should let only one of them hold a lease until it expires', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).leases.acquire('ws/c1', `proc-${i}`, 100, 200)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await b.leases.acquire('ws/c1', 'late', 201, 300)).toBe(true);
  });

  it('should reject the commit of the store that lost the lease to the other', async () => {
    await a.leases.acquire('ws/c1', 'proc-a', 100, 200);
    await a.commitStep(stepCommit({ leaseOwner: 'proc-a' }));
    await b.leases.acquire('ws/c1', 'proc-b', 300, 400);
    await expect(
      a.commitStep(
        stepCommit({ leaseOwner: 'proc-a', isNew: false, run: runRecord({ stepCount: 2 }), stepLogs: [stepLog(1, 'waiting')], effects: [sendEffect(2)] }),
      ),
    ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect((await b.runs.get('ws', 'run-1'))?.stepCount).toBe(1);
    expect(await b.outbox.get('run-1', 2)).toBeUndefined();
  });

  it('should never give one outbox entry to both', async () => {
    await a.leases.acquire('L', 'p', 0, 1e12);
    await a.commitStep(stepCommit({ leaseKey: 'L', leaseOwner: 'p', effects: Array.from({ length: 40 }, (_, i) => sendEffect(i + 1)) }));
    const rounds = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).outbox.claim(`exec-${i}`, 5, 100, 200)),
    );
    const claimed = rounds.flat().map((e) => e.seq);
    expect(claimed).toHaveLength(40);
    expect(new Set(claimed).size).toBe(40);
  });

  it('should journal a dedupe key once across both', async () => {
    const results = await Promise.all([
      a.journal.append(journalInput('j1', 'k', 1, 'wamid.1')),
      b.journal.append(journalInput('j2', 'k', 2, 'wamid.1')),
    ]);
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    expect(results[0].entry).toEqual(results[1].entry);
  });
});

// Needs no server: what an operator sees when MONGODB_URI points at nothing.
describe('mongo store with no server at the address', () => {
  it('should fail migrate() with StorageError UNAVAILABLE, not a raw driver error', async () => {
    const port = await closedPort();
    const store = createMongoStore({ uri: `mongodb://127.0.0.1:${port}/?serverSelectionTimeoutMS=300` });
    try {
      await expect(store.migrate()).rejects.toMatchObject({ name: 'StorageError', code: 'UNAVAILABLE', message: expect.stringContaining(`127.0.0.1:${port}`) });
    } finally {
      await store.close();
    }
  });
});

/** A loopback port nothing listens on: one the kernel just handed out and took back. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
