import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A temp directory holding one SQLite file, opened the way the store opens it (WAL, busy timeout). */
export interface TempDb {
  file: string;
  open(): Database.Database;
  cleanup(): void;
}

export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'convoflow-scheduler-'));
  const file = join(dir, 'test.db');
  const handles: Database.Database[] = [];
  return {
    file,
    open() {
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      handles.push(db);
      return db;
    },
    cleanup() {
      for (const h of handles) if (h.open) h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Rejects if `promise` has not settled within `ms` (a bounded wait, never a sleep). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
