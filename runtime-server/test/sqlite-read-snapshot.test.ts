import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { WriteBatcher } from '../src/scheduler/sqlite/write-batcher.js';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { endReadSnapshot, readSnapshotOf } from '../src/support/sqlite-read-snapshot.js';

const dirs: string[] = [];
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'convoflow-snapshot-'));
  dirs.push(dir);
  return join(dir, 'convoflow.db');
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Two connections on one WAL file with a one-row counter: `reader` reads, `writer` writes. */
function twoConnections(): { reader: Database.Database; writer: Database.Database; value: () => number; bump: () => void } {
  const file = tempFile();
  const writer = new Database(file);
  writer.pragma('journal_mode = WAL');
  writer.exec('CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)');
  const reader = new Database(file);
  const read = reader.prepare<[], { n: number }>('SELECT n FROM counter');
  const bump = writer.prepare('UPDATE counter SET n = n + 1');
  return { reader, writer, value: () => read.get()!.n, bump: () => void bump.run() };
}

/** Lets `n` microtasks run. */
async function microtasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

describe('ReadSnapshot', () => {
  it('should let reads made while the event loop does not turn share one transaction, and end it before the loop turns', async () => {
    const { reader, writer, value, bump } = twoConnections();
    const snapshot = readSnapshotOf(reader);
    expect(snapshot.read(value)).toBe(0);
    expect(reader.inTransaction).toBe(false); // a first read runs alone
    await microtasks(3);
    expect(snapshot.read(value)).toBe(0);
    expect(reader.inTransaction).toBe(true); // the second opens the shared transaction
    bump(); // another connection commits meanwhile
    await microtasks(10);
    // Still the same transaction: the other commit is not seen yet.
    expect(snapshot.read(value)).toBe(0);
    await nextTurn();
    expect(reader.inTransaction).toBe(false);
    expect(snapshot.read(value)).toBe(1);
    await nextTurn();
    // A lone read in a stretch of its own opens nothing.
    expect(snapshot.read(value)).toBe(1);
    expect(reader.inTransaction).toBe(false);
    reader.close();
    writer.close();
  });

  it('should end the transaction before any timer or I/O callback runs, however long the reads go on', async () => {
    const { reader, writer, value } = twoConnections();
    const snapshot = readSnapshotOf(reader);
    const seenByMacrotasks: boolean[] = [];
    setTimeout(() => seenByMacrotasks.push(reader.inTransaction), 0);
    setImmediate(() => seenByMacrotasks.push(reader.inTransaction));
    const started = Date.now();
    // Reads in a chain of promise continuations for a few milliseconds, as a busy journal round does.
    while (Date.now() - started < 5) {
      snapshot.read(value);
      await microtasks(3);
    }
    expect(reader.inTransaction).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seenByMacrotasks).toEqual([false, false]);
    reader.close();
    writer.close();
  });

  it('should read inside a transaction somebody else opened, and leave it to them', () => {
    const { reader, writer, value } = twoConnections();
    const snapshot = readSnapshotOf(reader);
    reader.exec('CREATE TABLE t (n INTEGER)');
    const insert = reader.prepare('INSERT INTO t VALUES (1)');
    reader.transaction(() => {
      insert.run();
      expect(snapshot.read(value)).toBe(0);
      snapshot.end(); // not its transaction: nothing happens
      expect(reader.inTransaction).toBe(true);
    })();
    expect(reader.inTransaction).toBe(false);
    expect(writer.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
    reader.close();
    writer.close();
  });

  it('should end quietly when the connection was closed under it', async () => {
    const { reader, writer, value } = twoConnections();
    readSnapshotOf(reader).read(value);
    readSnapshotOf(reader).read(value);
    expect(reader.inTransaction).toBe(true);
    reader.close();
    await nextTurn(); // the closer runs against a closed connection: no throw, no unhandled rejection
    expect(() => endReadSnapshot(reader)).not.toThrow();
    writer.close();
  });

  it('should be ended by the scheduler\'s group commit, whose writes are committed when it returns', async () => {
    const { reader, writer, value } = twoConnections();
    reader.exec('CREATE TABLE jobs (id INTEGER PRIMARY KEY)');
    const batcher = new WriteBatcher(reader);
    readSnapshotOf(reader).read(value);
    readSnapshotOf(reader).read(value);
    expect(reader.inTransaction).toBe(true);
    await batcher.now(() => reader.prepare('INSERT INTO jobs (id) VALUES (7)').run());
    expect(reader.inTransaction).toBe(false);
    expect(writer.prepare('SELECT id FROM jobs').all()).toEqual([{ id: 7 }]);
    reader.close();
    writer.close();
  });
});

describe('sqlite store reads and writes around the shared read transaction', () => {
  it('should commit a write at once after hot reads in the same stretch of work', async () => {
    const file = tempFile();
    const store = createSqliteStore({ file, synchronous: 'NORMAL', backgroundCheckpoints: false });
    await store.migrate();
    await store.workspaces.create({ id: 'ws', name: 'Acme' });
    const other = new Database(file, { readonly: true });
    const contactsSeen = other.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM contacts');

    // Hot reads open the shared transaction...
    expect(await store.contacts.get('ws', 'nobody')).toBeUndefined();
    expect(await store.runs.listActiveForContact('ws', 'nobody')).toEqual([]);
    expect(store.db.inTransaction).toBe(true);
    // ...and a write ends it first, so it is committed when it returns, not when the loop turns.
    const created = await store.contacts.create('ws', { name: 'Ann' }, [{ channel: 'simulator', externalId: 'ann' }], 1);
    expect(store.db.inTransaction).toBe(false);
    expect(contactsSeen.get()?.n).toBe(1);
    // A hot read after the write sees it.
    expect((await store.contacts.get('ws', created.id))?.fields).toEqual({ name: 'Ann' });

    other.close();
    await store.close();
  });
});
