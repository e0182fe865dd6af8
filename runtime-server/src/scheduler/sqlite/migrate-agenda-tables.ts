import type Database from 'better-sqlite3';
import { endReadSnapshot } from '../../support/sqlite-read-snapshot.js';

/** Name of the table that holds agenda jobs in the shared SQLite file. */
export const AGENDA_JOBS_TABLE = 'agenda_jobs';

const DDL = `
CREATE TABLE IF NOT EXISTS agenda_jobs (
  -- AUTOINCREMENT so an id is never reused: a stale saveJobState of a removed job must not hit a new one.
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER,
  type TEXT NOT NULL DEFAULT 'normal',
  locked_at INTEGER,
  last_run_at INTEGER,
  last_finished_at INTEGER,
  failed_at INTEGER,
  fail_count INTEGER,
  fail_reason TEXT,
  repeat_interval TEXT,
  repeat_timezone TEXT,
  repeat_at TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  progress REAL,
  data TEXT,
  unique_key TEXT,
  unique_opts TEXT,
  debounce_started_at INTEGER,
  last_modified_by TEXT,
  fork INTEGER,
  start_date INTEGER,
  end_date INTEGER,
  skip_days TEXT
);
-- "next job to run": equality on name, range on next_run_at, already in (next_run_at, priority) order.
CREATE INDEX IF NOT EXISTS agenda_jobs_due
  ON agenda_jobs (name, next_run_at, priority DESC) WHERE locked_at IS NULL AND disabled = 0;
-- Expired-lock recovery scans only locked rows.
CREATE INDEX IF NOT EXISTS agenda_jobs_locked
  ON agenda_jobs (name, locked_at) WHERE locked_at IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS agenda_jobs_unique
  ON agenda_jobs (name, unique_key) WHERE unique_key IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS agenda_jobs_single
  ON agenda_jobs (name) WHERE type = 'single';
-- Cancel by data.key (the Scheduler's timer/cron id) without a table scan.
CREATE INDEX IF NOT EXISTS agenda_jobs_data_key
  ON agenda_jobs (name, json_extract(data, '$.key'));
`;

/**
 * Creates the `agenda_*` tables and indexes in a better-sqlite3 database if they are missing.
 * Idempotent: safe to call on every start, from several processes sharing one file.
 *
 * The handle is expected to be configured by its owner (the store): WAL journal mode and a
 * `busy_timeout`, so that processes sharing the file wait for each other's write lock.
 *
 * @param db - an open better-sqlite3 database (the store's file)
 * @example
 * ```ts
 * const db = new Database('./data/convoflow.db');
 * db.pragma('journal_mode = WAL');
 * db.pragma('busy_timeout = 5000');
 * migrateAgendaTables(db);
 * ```
 */
export function migrateAgendaTables(db: Database.Database): void {
  endReadSnapshot(db); // DDL inside the store's shared read transaction would commit only with it
  db.exec(DDL);
}
