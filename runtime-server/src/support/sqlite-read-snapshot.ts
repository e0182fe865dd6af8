import type Database from 'better-sqlite3';

/**
 * Microtasks the closer lets pass without a read before it ends the transaction. Between two
 * reads of a journal round (one entry's active runs, the next entry's contact) a few dozen
 * promise continuations run; a snapshot that ends between them buys nothing.
 */
const IDLE_HOPS = 64;

/**
 * One read transaction shared by the reads a connection makes while the event loop does not turn.
 *
 * In WAL mode every read outside a transaction takes and drops a read lock on the `-shm` file
 * (two fcntl calls, dear on a virtual machine) and checks the WAL index: ~8 us, against ~1 us for
 * the same query inside an open transaction. A journal round reads, for every entry, the contact,
 * its active runs and whether the run to start exists, one after another in promise continuations.
 *
 * The transaction never outlives the microtask queue: a closer, queued as a microtask again and
 * again, ends it once {@link IDLE_HOPS} microtasks ran without a read, so always before a timer,
 * an I/O callback or an immediate runs. Reads made inside it may miss what another connection
 * committed during that stretch of synchronous work, no more than a read made a moment earlier
 * would; this connection's own writes must `end()` it first (see {@link endReadSnapshot}).
 */
export class ReadSnapshot {
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  #open = false;
  #readsSinceHop = 0;
  #idleHops = 0;

  constructor(private readonly db: Database.Database) {
    this.#begin = db.prepare('BEGIN');
    this.#commit = db.prepare('COMMIT');
  }

  /** Runs `read` inside the shared transaction, opening it when none is. */
  read<T>(read: () => T): T {
    if (!this.#open) {
      // Inside a transaction of somebody else's (a write in progress): read in that one.
      if (this.db.inTransaction) return read();
      this.#begin.run();
      this.#open = true;
      this.#idleHops = 0;
      queueMicrotask(this.#hop);
    }
    this.#readsSinceHop += 1;
    return read();
  }

  /** Ends the shared transaction, if one is open: before any write on the connection. */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#readsSinceHop = 0;
    if (this.db.open && this.db.inTransaction) this.#commit.run();
  }

  readonly #hop = (): void => {
    if (!this.#open) return;
    if (this.#readsSinceHop > 0) {
      this.#readsSinceHop = 0;
      this.#idleHops = 0;
    } else if (++this.#idleHops >= IDLE_HOPS) {
      this.end();
      return;
    }
    queueMicrotask(this.#hop);
  };
}

const snapshots = new WeakMap<Database.Database, ReadSnapshot>();

/** The connection's shared read transaction (see {@link ReadSnapshot}). */
export function readSnapshotOf(db: Database.Database): ReadSnapshot {
  let snapshot = snapshots.get(db);
  if (!snapshot) {
    snapshot = new ReadSnapshot(db);
    snapshots.set(db, snapshot);
  }
  return snapshot;
}

/**
 * Ends the connection's shared read transaction, if it has one open. Whatever else writes on a
 * connection the store reads through (the scheduler's backend, the retention pass) calls this
 * first, or its write would join the read transaction and commit only when that ends.
 */
export function endReadSnapshot(db: Database.Database): void {
  snapshots.get(db)?.end();
}
