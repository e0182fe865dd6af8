import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BACKSTOP_AUTOCHECKPOINT_PAGES,
  Checkpointer,
  DEFAULT_AUTOCHECKPOINT_PAGES,
  type CheckpointResult,
} from '../src/storage/sqlite/checkpointer.js';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';

const autocheckpoint = (db: Database.Database): number => Number(db.pragma('wal_autocheckpoint', { simple: true }));

describe('Checkpointer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should copy WAL frames into the database from its thread while the connection only writes', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    const results: CheckpointResult[] = [];
    const checkpointer = new Checkpointer(db, file, { intervalMs: 5, onCheckpoint: (r) => results.push(r) });
    try {
      expect(autocheckpoint(db)).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
      const sizeBefore = statSync(file).size;
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      // ~500 pages of rows: well under the backstop, so this connection checkpoints nothing itself.
      db.transaction(() => {
        for (let i = 0; i < 2_000; i += 1) insert.run('x'.repeat(1_000));
      })();
      const deadline = Date.now() + 10_000;
      while (!results.some((r) => r.log > 0 && r.checkpointed === r.log) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(results.some((r) => r.log > 0 && r.checkpointed === r.log)).toBe(true);
      // The pages are in the database file itself, not only in the WAL.
      expect(statSync(file).size).toBeGreaterThan(sizeBefore + 1_000_000);
      const reader = new Database(file, { readonly: true });
      expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 2_000 });
      reader.close();
    } finally {
      await checkpointer.stop();
    }
    // Without the thread, the connection is back on SQLite's default.
    expect(autocheckpoint(db)).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    db.close();
  });

  it('should run for a file store unless turned off, and not for :memory:', async () => {
    const store = createSqliteStore({ file: join(dir, 'store.db') });
    const inline = createSqliteStore({ file: join(dir, 'inline.db'), backgroundCheckpoints: false });
    const memory = createSqliteStore({ file: ':memory:' });
    try {
      expect(autocheckpoint(store.db)).toBe(BACKSTOP_AUTOCHECKPOINT_PAGES);
      expect(autocheckpoint(inline.db)).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
      expect(autocheckpoint(memory.db)).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    } finally {
      await Promise.all([store.close(), inline.close(), memory.close()]);
    }
    expect(store.db.open).toBe(false);
  });
});
