import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { PruneReport, RetentionPolicy } from '../storage-port.js';
import { limitBy } from '../../support/sqlite-limit.js';
import { expiredThrough } from '../store-helpers.js';
import { endReadSnapshot } from '../../support/sqlite-read-snapshot.js';

/** Rows deleted per transaction: small enough that the write lock is never held for long. @internal */
export const PRUNE_BATCH = 500;
/** Runs handled per transaction when their step logs go (a run may have many). @internal */
const RUN_BATCH = 50;

/**
 * Deletes what the retention policy lets go, in short transactions so live commits interleave:
 *
 * - journal entries that finished (processed or failed) before `now - journalMs`;
 * - outbox entries that finished (done or failed) before `now - outboxMs`;
 * - the whole step log of every run that ended before `now - stepLogMs` (a run keeps all of its log
 *   or none of it, so a long run that ended recently is never shown half-logged);
 * - runs that ended before `now - endedRunsMs`, with their step logs;
 * - with `messagesMs`, conversation messages stored before `now - messagesMs`: read from the front
 *   of the table (the oldest seq) up to the first one still inside the window, and deleted as a
 *   range of seq, so a round costs what it deletes, not a scan of the whole table.
 *
 * Pending journal and outbox entries, and runs that have not ended, are never touched. Between
 * batches it yields to the event loop, so this process's own commits interleave too.
 * @internal
 */
export async function pruneSqlite(db: Database.Database, policy: RetentionPolicy, now: number): Promise<PruneReport> {
  const report: PruneReport = { stepLog: 0, journal: 0, outbox: 0, runs: 0, messages: 0 };

  const journalBatch = db.prepare<[number, number]>(
    `DELETE FROM journal WHERE seq IN (
       SELECT seq FROM journal WHERE status <> 'pending' AND processed_at < ? ${limitBy()})`,
  );
  report.journal = await drain(db, () => journalBatch.run(now - policy.journalMs, PRUNE_BATCH).changes);

  const outboxBatch = db.prepare<[number, number]>(
    `DELETE FROM outbox WHERE rowid IN (
       SELECT rowid FROM outbox WHERE status <> 'pending' AND completed_at < ? ${limitBy()})`,
  );
  report.outbox = await drain(db, () => outboxBatch.run(now - policy.outboxMs, PRUNE_BATCH).changes);

  const deleteLog = db.prepare<[string]>('DELETE FROM step_log WHERE run_id = ?');

  const endedRuns = db.prepare<[number, number], { id: string }>(
    `SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? ${limitBy()}`,
  );
  const deleteRun = db.prepare<[string]>('DELETE FROM runs WHERE id = ?');
  const runsBatch = db.transaction((cutoff: number) => {
    let runs = 0;
    for (const { id } of endedRuns.all(cutoff, RUN_BATCH)) {
      report.stepLog += deleteLog.run(id).changes;
      runs += deleteRun.run(id).changes;
    }
    return runs;
  });
  report.runs = await drain(db, () => runsBatch.immediate(now - policy.endedRunsMs));

  const unprunedRuns = db.prepare<[number, number], { id: string }>(
    `SELECT id FROM runs WHERE ended_at IS NOT NULL AND logs_pruned = 0 AND ended_at < ? ${limitBy()}`,
  );
  const markPruned = db.prepare<[string]>('UPDATE runs SET logs_pruned = 1 WHERE id = ?');
  const logsBatch = db.transaction((cutoff: number) => {
    const runs = unprunedRuns.all(cutoff, RUN_BATCH);
    for (const { id } of runs) {
      report.stepLog += deleteLog.run(id).changes;
      markPruned.run(id);
    }
    return runs.length;
  });
  await drain(db, () => logsBatch.immediate(now - policy.stepLogMs));

  if (policy.messagesMs !== undefined) {
    const cutoff = now - policy.messagesMs;
    const front = db.prepare<[number], { seq: number; at: number }>(`SELECT seq, at FROM messages ORDER BY seq ${limitBy()}`);
    const deleteThrough = db.prepare<[number]>('DELETE FROM messages WHERE seq <= ?');
    report.messages = await drain(db, () => {
      const last = expiredThrough(front.all(PRUNE_BATCH), cutoff);
      return last === undefined ? 0 : deleteThrough.run(last).changes;
    });
  }
  return report;
}

/** Runs a batch until it finds nothing more, yielding between batches; returns the total. */
async function drain(db: Database.Database, batch: () => number): Promise<number> {
  let total = 0;
  for (;;) {
    endReadSnapshot(db);
    const n = batch();
    total += n;
    if (n === 0) return total;
    await nextTurn();
  }
}
