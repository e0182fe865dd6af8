import type Database from 'better-sqlite3';
import { endReadSnapshot } from '../../support/sqlite-read-snapshot.js';

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
 * @internal
 */
export class WriteBatcher {
  private pending: PendingOp[] = [];
  private scheduled = false;
  private readonly commit: (ops: PendingOp[]) => unknown[];

  constructor(private readonly db: Database.Database) {
    // Each op catches its own error: a failed statement is rolled back by SQLite alone, and the
    // others in the batch still commit.
    const tx = db.transaction((ops: PendingOp[]) =>
      ops.map((op) => {
        try {
          return { ok: true, value: op.run() };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    this.commit = (ops) => tx.immediate(ops);
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
      for (const op of ops) op.reject(error);
      return;
    }
    ops.forEach((op, i) => {
      const outcome = outcomes[i] as { ok: boolean; value?: unknown; error?: unknown };
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    });
  }
}
