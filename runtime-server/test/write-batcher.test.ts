import Database from 'better-sqlite3';
import { WriteBatcher } from '../src/scheduler/sqlite/write-batcher.js';

describe('WriteBatcher', () => {
  it('should commit the ops of one turn together, and fail an op alone without leaving any of it', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const insert = db.prepare<[string]>('INSERT INTO t (k) VALUES (?)');
    const batcher = new WriteBatcher(db);
    const results = await Promise.allSettled([
      batcher.enqueue(() => insert.run('a').changes),
      // Two statements: the second fails, and the first must not stay.
      batcher.enqueue(() => {
        insert.run('b');
        insert.run('a');
      }),
      batcher.enqueue(() => insert.run('c').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'c']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'StorageError', code: 'CONFLICT' });
  });

  it('should tell each caller the truth when the disk fills in the middle of a batch', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)');
    // The file may not grow: a small row still fits in the table's page, a big one needs new pages.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const insert = db.prepare<[string, Buffer]>('INSERT INTO t (k, v) VALUES (?, ?)');
    const batcher = new WriteBatcher(db);
    const keys = ['small-1', 'big', 'small-2'];
    const results = await Promise.allSettled(keys.map((k) => batcher.enqueue(() => insert.run(k, Buffer.alloc(k === 'big' ? 20_000 : 10)))));
    // Whatever SQLite rolled back (the statement, or the whole transaction), a caller told its
    // write landed finds it there, and one told it failed does not.
    const stored = new Set(db.prepare('SELECT k FROM t').pluck().all());
    expect(keys.map((k) => stored.has(k))).toEqual(results.map((r) => r.status === 'fulfilled'));
    expect(results[1]!.status).toBe('rejected');
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'StorageError', code: 'FULL' });
  });
});
