import type Database from 'better-sqlite3';

/** How long writes do not wait for a lock after one wait ran out. */
const STOP_WAITING_MS = 1_000;

const lockWaits = new WeakMap<Database.Database, LockWait>();

/**
 * How long one connection's writes wait for another connection's write lock (SQLite's busy
 * timeout). better-sqlite3 waits synchronously, holding the event loop. A wait that runs out says
 * the lock is held long (an operator's open transaction, a VACUUM from another tool): every write
 * of every loop would then wait its full timeout in turn, and the server would stop answering
 * anything. So for a second after that, writes do not wait at all: each still takes the lock at
 * once when it is free, and fails `BUSY` at once (answered 503, retried) when it is not.
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

  /** A write found the database locked after waiting: stop waiting for a while. */
  ranOut(): void {
    if (this.#resting !== undefined || !this.db.open) return;
    this.db.pragma('busy_timeout = 0');
    this.#resting = setTimeout(() => this.arm(), STOP_WAITING_MS);
    this.#resting.unref();
  }
}

/** Tells `db`'s LockWait, when it has one, that a write met `mapped` (a StorageError, or not). */
export function noteWriteError(db: Database.Database, mapped: unknown): void {
  if ((mapped as { name?: unknown; code?: unknown } | null)?.name === 'StorageError' && (mapped as { code?: unknown }).code === 'BUSY') {
    lockWaits.get(db)?.ranOut();
  }
}
