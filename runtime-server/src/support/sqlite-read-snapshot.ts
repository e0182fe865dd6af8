import type Database from 'better-sqlite3';

/**
 * One read transaction shared by the reads a connection makes while the event loop does not turn.
 *
 * In WAL mode every read outside a transaction takes and drops a read lock on the `-shm` file
 * (two fcntl calls, dear on a virtual machine) and checks the WAL index. A journal round reads, for
 * every entry, the contact, its active runs and whether the run to start exists, one after another
 * in promise continuations, and the long polls its commit wakes each read their transcript: inside
 * one transaction each of those reads costs a fraction of a read on its own. A read that comes
 * alone would only pay for BEGIN and COMMIT besides, so the first read of a stretch runs on its
 * own and the second opens the shared transaction.
 *
 * The transaction ends when the microtask queue runs dry: the first read queues a microtask that
 * queues a `process.nextTick`, and Node runs that tick only once no microtask is left, always
 * before a timer, an I/O callback or an immediate. So no other code ever runs inside it but what
 * runs in that same stretch of promise continuations. Reads made inside it may miss what another
 * connection committed during that stretch, no more than a read made a moment earlier would; this
 * connection's own writes must `end()` it first (see {@link endReadSnapshot}).
 */
export class ReadSnapshot {
  readonly #begin: Database.Statement;
  readonly #commit: Database.Statement;
  /** A read was made in this stretch of microtasks: the end of the stretch is watched for. */
  #readInStretch = false;
  #open = false;

  constructor(private readonly db: Database.Database) {
    this.#begin = db.prepare('BEGIN');
    this.#commit = db.prepare('COMMIT');
  }

  /** Runs `read` inside the shared transaction, opening it at the second read of a stretch. */
  read<T>(read: () => T): T {
    // Open, or inside a transaction of somebody else's (a write in progress): read in that one.
    if (this.#open || this.db.inTransaction) return read();
    if (!this.#readInStretch) {
      this.#readInStretch = true;
      queueMicrotask(this.#endOnceMicrotasksRunDry);
      return read();
    }
    this.#begin.run();
    this.#open = true;
    return read();
  }

  /** Ends the shared transaction, if one is open: before any write on the connection. */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.db.open && this.db.inTransaction) this.#commit.run();
  }

  // A tick queued from a microtask runs after the microtask queue is empty (Node drains it, then
  // the ticks queued meanwhile), whereas a tick queued from plain code would run before it.
  readonly #endOnceMicrotasksRunDry = (): void => {
    process.nextTick(this.#endStretch);
  };

  readonly #endStretch = (): void => {
    this.#readInStretch = false;
    this.end();
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
