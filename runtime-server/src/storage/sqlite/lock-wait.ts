import type Database from 'better-sqlite3';

/** How long writes wait only briefly after one wait ran out. */
const REST_MS = 2_000;
/** The wait meanwhile: enough for another process's ordinary commit (a few ms), no more. */
const RESTING_WAIT_MS = 5;

const lockWaits = new WeakMap<Database.Database, LockWait>();

/**
 * How long one connection's writes wait for another connection's write lock (SQLite's busy
 * timeout). better-sqlite3 waits synchronously, holding the event loop. A wait that runs out says
 * the lock is held long (an operator's open transaction, a VACUUM from another tool): every write
 * of every loop would then wait its full timeout in turn, and the server would stop answering
 * anything. So for two seconds after that, writes wait only a few milliseconds: each still takes
 * the lock when another process's ordinary commit lets it go, and fails `BUSY` (answered 503,
 * retried) at once when the lock stays held.
 */
export class LockWait {
  #resting: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly waitMs: number,
  ) {
    lockWaits.set(db, this);
  }

  /** Writes wait up to `waitMs` again. */
  arm(): void {
    clearTimeout(this.#resting);
    this.#resting = undefined;
    if (this.db.open) this.db.pragma(`busy_timeout = ${this.waitMs}`);
  }

  /** A write found the database locked after waiting: wait only briefly for a while. */
  ranOut(): void {
    if (this.#resting !== undefined || !this.db.open) return;
    this.db.pragma(`busy_timeout = ${Math.min(this.waitMs, RESTING_WAIT_MS)}`);
    this.#resting = setTimeout(() => this.arm(), REST_MS);
    this.#resting.unref();
  }
}

/** Tells `db`'s LockWait, when it has one, that a write met `mapped` (a StorageError, or not). */
export function noteWriteError(db: Database.Database, mapped: unknown): void {
  if ((mapped as { name?: unknown; code?: unknown } | null)?.name === 'StorageError' && (mapped as { code?: unknown }).code === 'BUSY') {
    lockWaits.get(db)?.ranOut();
  }
}
