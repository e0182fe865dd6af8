import type Database from 'better-sqlite3';
import { endReadSnapshot } from '../../support/sqlite-read-snapshot.js';

type Outcome<R> = { ok: R } | { error: unknown };

/**
 * Group commit: writes asked for in the same turn of the event loop (many requests or effects
 * finishing at once) go into one transaction, so they share one set of WAL pages and, when
 * `afterCommit` syncs, one sync. Each caller's promise settles with its own result, after
 * `afterCommit`. If the group fails, each write is retried alone, so one bad write cannot fail the
 * others.
 */
export class GroupCommit<I, R> {
  #queue: Array<{ item: I; resolve: (result: R) => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly db: Database.Database,
    /** One write; runs inside the group's transaction. */
    private readonly write: (item: I) => R,
    private readonly mapError: (err: unknown) => unknown,
    /** Runs after the commit, before anybody hears of it (say, a sync to disk). */
    private readonly afterCommit: () => Promise<void> = () => Promise.resolve(),
  ) {}

  add(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#queue.splice(0);
    let outcomes: Outcome<R>[];
    endReadSnapshot(this.db);
    try {
      outcomes = this.db.transaction(() => batch.map((b) => ({ ok: this.write(b.item) }))).immediate();
    } catch {
      outcomes = batch.map((b) => {
        try {
          return { ok: this.db.transaction(() => this.write(b.item)).immediate() };
        } catch (error) {
          return { error: this.mapError(error) };
        }
      });
    }
    this.afterCommit().then(
      () =>
        batch.forEach((b, i) => {
          const outcome = outcomes[i]!;
          if ('error' in outcome) b.reject(outcome.error);
          else b.resolve(outcome.ok);
        }),
      (err: unknown) => batch.forEach((b) => b.reject(err)),
    );
  }
}
