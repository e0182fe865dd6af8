import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BACKSTOP_AUTOCHECKPOINT_PAGES,
  Checkpointer,
  DEFAULT_AUTOCHECKPOINT_PAGES,
  type CheckpointResult,
} from '../src/storage/sqlite/checkpointer.js';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

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

  it('should back off while no commits come in', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    let checkpoints = 0;
    const checkpointer = new Checkpointer(db, file, { intervalMs: 20, onCheckpoint: () => void (checkpoints += 1) });
    try {
      // Every 20 ms for 1.5 s would be 75 checkpoints; doubling from 20 ms is 6 (20 + 40 + ... + 640).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(checkpoints).toBeGreaterThanOrEqual(2);
      expect(checkpoints).toBeLessThanOrEqual(10);
      // Commits coming in again bring it back to its pace (after at most the longest back-off, 1 s).
      const insert = db.prepare('INSERT INTO t DEFAULT VALUES');
      const before = checkpoints;
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        insert.run();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // At the 1 s back-off it would be 2 or 3; at 20 ms, ~50 in the second after it returns.
      expect(checkpoints - before).toBeGreaterThanOrEqual(15);
    } finally {
      await checkpointer.stop();
      db.close();
    }
  });

  it('should say why and hand checkpoints back to the connection when its thread cannot open the database', async () => {
    const file = join(dir, 'db.sqlite');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    let checkpointer: Checkpointer | undefined;
    const warning = await new Promise<string>((resolve) => {
      checkpointer = new Checkpointer(db, join(dir, 'missing', 'db.sqlite'), { warn: resolve });
    });
    expect(warning).toMatch(/^Background WAL checkpoints of .*missing.* stopped \(.+\); the store's connection checkpoints again$/);
    await checkpointer!.stop();
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

  it('should let a script that awaits close() go on: its thread keeps the process alive until it has stopped', () => {
    // Nothing else keeps this process alive when close() waits for the thread to exit.
    const script = [
      "import { createSqliteStore } from './runtime-server/src/storage/sqlite/sqlite-store.ts';",
      `const store = createSqliteStore({ file: ${JSON.stringify(join(dir, 'script.db'))} });`,
      'await store.migrate();',
      "await store.workspaces.create({ name: 'Acme' });",
      'await store.close();',
      "console.log('closed', store.db.open);",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
    // Before, the process ended inside close() ("unsettled top-level await", exit 13).
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: 'closed false' });
  });
});
