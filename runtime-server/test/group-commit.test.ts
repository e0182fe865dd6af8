import Database from 'better-sqlite3';
import { GroupCommit } from '../src/storage/sqlite/group-commit.js';
import { WalSync } from '../src/storage/sqlite/wal-sync.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function memoryDb(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL CHECK (v >= 0))');
  return db;
}

describe('GroupCommit', () => {
  it('should write the writes of one turn in one transaction, each caller getting its own result', async () => {
    const db = memoryDb();
    const insert = db.prepare<[string, number]>('INSERT INTO t (k, v) VALUES (?, ?)');
    let transactions = 0;
    const group = new GroupCommit(
      db,
      (item: { k: string; v: number }) => {
        if (!db.inTransaction) throw new Error('written outside a transaction');
        return Number(insert.run(item.k, item.v).lastInsertRowid);
      },
      (err) => err,
      async () => void (transactions += 1),
    );
    const rowids = await Promise.all([group.add({ k: 'a', v: 1 }), group.add({ k: 'b', v: 2 }), group.add({ k: 'c', v: 3 })]);
    expect(rowids).toEqual([1, 2, 3]);
    expect(transactions).toBe(1);
  });

  it('should retry each write alone when the group fails, so one bad write fails alone', async () => {
    const db = memoryDb();
    const insert = db.prepare<[string, number]>('INSERT INTO t (k, v) VALUES (?, ?)');
    const group = new GroupCommit(db, (item: { k: string; v: number }) => insert.run(item.k, item.v).changes, (err) => new Error(`mapped: ${String(err)}`));
    const results = await Promise.allSettled([group.add({ k: 'a', v: 1 }), group.add({ k: 'bad', v: -1 }), group.add({ k: 'c', v: 3 })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/^Error: mapped: .*CHECK constraint failed/);
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'c']);
  });

  it('should reject every caller of the group when the step after the commit fails', async () => {
    const db = memoryDb();
    const insert = db.prepare<[string, number]>('INSERT INTO t (k, v) VALUES (?, ?)');
    const group = new GroupCommit(
      db,
      (item: { k: string; v: number }) => insert.run(item.k, item.v).changes,
      (err) => err,
      () => Promise.reject(new Error('disk gone')),
    );
    const results = await Promise.allSettled([group.add({ k: 'a', v: 1 }), group.add({ k: 'b', v: 2 })]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['Error: disk gone', 'Error: disk gone']);
  });
});

describe('WalSync', () => {
  it('should serve the callers that arrive during a sync with the next one, and refuse after close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'walsync-'));
    try {
      const wal = join(dir, 'x.db-wal');
      writeFileSync(wal, 'frames');
      const sync = new WalSync(wal);
      const first = sync.sync();
      // Asked while the first runs: may not be served by it (its commit may not be covered).
      const during = [sync.sync(), sync.sync(), sync.sync()];
      await first;
      expect(sync.completed).toBe(1);
      await Promise.all(during);
      expect(sync.completed).toBe(2);
      await sync.close();
      await expect(sync.sync()).rejects.toThrow('closed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should reject when the WAL file cannot be opened', async () => {
    const sync = new WalSync(join(tmpdir(), 'no-such-dir-convoflow', 'x.db-wal'));
    await expect(sync.sync()).rejects.toThrow(/ENOENT/);
  });
});
