import type Database from 'better-sqlite3';
import type { JsonObject } from '@convoflow/engine';
import type { ClaimedTimer, TimerFailure, TimerStore } from '../internal/timer-store.js';
import type { SqliteJobRepository } from './sqlite-job-repository.js';
import { limitBy } from '../../support/sqlite-limit.js';

interface ClaimedRow {
  id: number;
  data: string | null;
  fail_count: number | null;
}

/**
 * {@link TimerStore} on the `agenda_jobs` table: one UPDATE ... RETURNING locks a batch, settled
 * timers are deleted or rescheduled in the repository's group commits.
 * @internal
 */
export class SqliteTimerStore implements TimerStore {
  private readonly stmts: {
    insert: Database.Statement;
    claimExpired: Database.Statement;
    claimDue: Database.Statement;
    nextDue: Database.Statement;
    remove: Database.Statement;
    fail: Database.Statement;
    touch: Database.Statement;
  };

  constructor(
    private readonly repo: SqliteJobRepository,
    jobName: string,
  ) {
    const db = repo.database;
    const name = `'${jobName.replace(/'/g, "''")}'`;
    const lock = 'UPDATE agenda_jobs SET locked_at = @now, last_run_at = @now, last_modified_by = @owner WHERE id IN';
    const returning = 'RETURNING id, data, fail_count';
    this.stmts = {
      // The row agenda's saveJob writes for a unique insert-only job; the conflict target is the
      // agenda_jobs_unique index, so the two paths agree on idempotency.
      insert: db.prepare(
        `INSERT INTO agenda_jobs (name, priority, next_run_at, type, disabled, data, unique_key, unique_opts, last_modified_by)
           VALUES (${name}, 0, ?, 'normal', 0, ?, ?, '{"insertOnly":true}', ?)
           ON CONFLICT (name, unique_key) WHERE unique_key IS NOT NULL DO NOTHING`,
      ),
      // Both use partial indexes: agenda_jobs_locked for expired locks, agenda_jobs_due for due rows.
      claimExpired: db.prepare(
        `${lock} (SELECT id FROM agenda_jobs WHERE name = ${name} AND locked_at IS NOT NULL AND locked_at <= @deadline
           AND disabled = 0 AND next_run_at IS NOT NULL ${limitBy('@limit')}) ${returning}`,
      ),
      claimDue: db.prepare(
        `${lock} (SELECT id FROM agenda_jobs WHERE name = ${name} AND next_run_at <= @now AND locked_at IS NULL AND disabled = 0
           ORDER BY next_run_at ${limitBy('@limit')}) ${returning}`,
      ),
      nextDue: db.prepare(
        `SELECT min(next_run_at) AS at FROM agenda_jobs WHERE name = ${name} AND locked_at IS NULL AND disabled = 0`,
      ),
      remove: db.prepare('DELETE FROM agenda_jobs WHERE id = ?'),
      fail: db.prepare(
        `UPDATE agenda_jobs SET locked_at = NULL, next_run_at = @retryAt, fail_count = @failCount, fail_reason = @reason,
           failed_at = @failedAt, last_finished_at = @failedAt WHERE id = @id`,
      ),
      touch: db.prepare('UPDATE agenda_jobs SET locked_at = ? WHERE id = ? AND locked_at IS NOT NULL'),
    };
  }

  schedule(timerId: string, dueAt: number, payload: JsonObject, owner: string): Promise<void> {
    const data = JSON.stringify({ key: timerId, dueAt, payload });
    // canonicalUniqueKey's text for this one-key constraint, without its generic key sorting.
    const uniqueKey = `{"data.key":${JSON.stringify(timerId)}}`;
    const { insert } = this.stmts;
    return this.repo.write(() => {
      insert.run(dueAt, data, uniqueKey, owner);
    });
  }

  claimDue(now: number, limit: number, owner: string, lockLifetimeMs: number): Promise<ClaimedTimer[]> {
    const { claimExpired, claimDue } = this.stmts;
    return this.repo.writeNow(() => {
      const rows = claimExpired.all({ now, owner, deadline: now - lockLifetimeMs, limit }) as ClaimedRow[];
      if (rows.length < limit) rows.push(...(claimDue.all({ now, owner, limit: limit - rows.length }) as ClaimedRow[]));
      return rows.map(toClaimed);
    });
  }

  nextDueAt(): Promise<number | null> {
    return this.repo.writeNow(() => (this.stmts.nextDue.get() as { at: number | null }).at);
  }

  complete(ids: string[]): Promise<void> {
    const { remove } = this.stmts;
    return this.repo.write(() => {
      for (const id of ids) remove.run(Number(id));
    });
  }

  fail(failures: TimerFailure[]): Promise<void> {
    const { fail } = this.stmts;
    return this.repo.write(() => {
      for (const f of failures) fail.run({ ...f, id: Number(f.id) });
    });
  }

  touch(ids: string[], now: number): Promise<void> {
    const { touch } = this.stmts;
    return this.repo.write(() => {
      for (const id of ids) touch.run(now, Number(id));
    });
  }
}

function toClaimed(row: ClaimedRow): ClaimedTimer {
  const data = (row.data === null ? {} : JSON.parse(row.data)) as { key?: string; dueAt?: number; payload?: JsonObject };
  return {
    id: String(row.id),
    timerId: String(data.key ?? ''),
    dueAt: Number(data.dueAt ?? 0),
    payload: data.payload ?? {},
    failCount: row.fail_count ?? 0,
  };
}
