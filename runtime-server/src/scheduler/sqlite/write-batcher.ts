import type Database from 'better-sqlite3';
import { endReadSnapshot } from '../../support/sqlite-read-snapshot.js';
import { toStorageError } from '../../storage/sqlite/sqlite-errors.js';
import { noteWriteError } from '../../storage/sqlite/lock-wait.js';

/** Thrown inside a whole-batch transaction to roll it back and run it again op by op. */
const AN_OP_FAILED = new Error('an op of the batch failed');

interface PendingOp {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one better-sqlite3 handle: operations queued during one turn of the event loop
 * run in a single IMMEDIATE transaction, and each caller's promise settles after that commit.
 *
 * agenda awaits one repository call per job state change; with hundreds of jobs in flight this
 * turns hundreds of commits into one, which is what lets 100,000 due timers fire within a second
 * of each other. Operations run in the order they were queued, so a read queued after a write sees it.
 * Errors reach callers as the store's: a full disk is a StorageError `FULL`, as anywhere else. An
 * op may run twice (rolled back, then again): it must only touch the database.
 * @internal
 */
export class WriteBatcher {
  private pending: PendingOp[] = [];
  private scheduled = false;
  private readonly commit: (ops: PendingOp[]) => unknown[];

  constructor(private readonly db: Database.Database) {
    // Almost every batch succeeds whole: run it without a savepoint per op. Only when an op fails is
    // the batch rolled back and run again with one savepoint per op, so a failed op leaves nothing
    // behind and the others still commit.
    const whole = db.transaction((ops: PendingOp[]) =>
      ops.map((op) => {
        try {
          return { ok: true, value: op.run() };
        } catch {
          throw AN_OP_FAILED;
        }
      }),
    );
    const inSavepoint = db.transaction((op: PendingOp) => op.run());
    const opByOp = db.transaction((ops: PendingOp[]) =>
      ops.map((op) => {
        try {
          return { ok: true, value: inSavepoint(op) };
        } catch (error) {
          // A full disk, or I/O failing, can make SQLite cancel the whole transaction, not just
          // the op: the ops after it would then run outside any transaction and land while their
          // callers hear of failure. Stop, and fail the batch as one.
          if (!db.inTransaction) throw error;
          return { ok: false, error: this.mapError(error) };
        }
      }),
    );
    this.commit = (ops) => {
      try {
        return whole.immediate(ops);
      } catch (error) {
        if (error !== AN_OP_FAILED) throw error;
        return opByOp.immediate(ops);
      }
    };
  }

  private mapError(error: unknown): unknown {
    const mapped = toStorageError(error);
    noteWriteError(this.db, mapped);
    return mapped;
  }

  /** Queues `run` for the next group commit. */
  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs `run` now, in the same transaction as everything queued before it. */
  now<T>(run: () => T): Promise<T> {
    const result = new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (v: unknown) => void, reject });
    });
    this.flush();
    return result;
  }

  /** Commits everything queued so far. */
  flush(): void {
    this.scheduled = false;
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    let outcomes: unknown[];
    endReadSnapshot(this.db);
    try {
      outcomes = this.db.open ? this.commit(ops) : ops.map(() => ({ ok: false, error: new Error('database is closed') }));
    } catch (error) {
      const mapped = this.mapError(error);
      for (const op of ops) op.reject(mapped);
      return;
    }
    ops.forEach((op, i) => {
      const outcome = outcomes[i] as { ok: boolean; value?: unknown; error?: unknown };
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    });
  }
}
