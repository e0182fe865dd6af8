import type Database from 'better-sqlite3';
import {
  computeJobState,
  type JobId,
  type JobParameters,
  type JobRepository,
  type JobRepositoryOptions,
  type JobsOverview,
  type JobsQueryOptions,
  type JobsResult,
  type JobWithState,
  type RemoveJobsOptions,
} from 'agenda';
import { canonicalUniqueKey, rowToJob, toMs, userFields, type JobRow, type UserFieldValues } from './job-row.js';
import { orderBy, queryOptionsWhere, removeOptionsWhere } from './job-filters.js';
import { migrateAgendaTables } from './migrate-agenda-tables.js';
import { WriteBatcher } from './write-batcher.js';
import { limitBy } from '../../support/sqlite-limit.js';

/** Options of {@link SqliteJobRepository}. */
export interface SqliteJobRepositoryOptions {
  /**
   * How many due jobs one "next job to run" query locks at once (default 200). agenda asks for one
   * job at a time; the rest of a batch is handed out from memory on its next calls, so a burst of
   * due timers costs one query per batch instead of one per job.
   */
  lockBatchSize?: number;
  /** Create the `agenda_*` tables on connect (default true). */
  migrate?: boolean;
  /**
   * Called when jobs of `jobName` are due and agenda should look for them now: at the due time of
   * the next known job, and whenever a job finishes while more due jobs wait. The backend wires it
   * to agenda's notification channel; without it agenda only finds jobs by polling.
   */
  onDue?: (jobName: string) => void;
}

const USER_COLUMNS: (keyof UserFieldValues)[] = [
  'name',
  'priority',
  'next_run_at',
  'type',
  'repeat_interval',
  'repeat_timezone',
  'repeat_at',
  'disabled',
  'data',
  'unique_opts',
  'debounce_started_at',
  'last_modified_by',
  'fork',
  'start_date',
  'end_date',
  'skip_days',
];

const INSERT_COLUMNS = [...USER_COLUMNS, 'unique_key'];
const INSERT_SQL = `INSERT INTO agenda_jobs (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})`;
const SET_FROM_EXCLUDED = USER_COLUMNS.filter((c) => c !== 'name').map((c) => `${c} = excluded.${c}`);
const SET_FROM_PARAMS = USER_COLUMNS.filter((c) => c !== 'name').map((c) => `${c} = @${c}`);

type Statement = Database.Statement<unknown[], unknown>;

interface Statements {
  insert: Statement;
  insertUniqueOnce: Statement;
  upsertUnique: Statement;
  upsertSingle: Statement;
  updateById: Statement;
  byId: Statement;
  byUniqueKey: Statement;
  saveState: Statement;
  lockOne: Statement;
  lockById: Statement;
  nextDue: Statement;
  expiredIds: Statement;
  dueIds: Statement;
  unlockOne: Statement;
  unlockIfLockedAt: Statement;
  queueSize: Statement;
  distinctNames: Statement;
  purge: Statement;
}

/**
 * agenda `JobRepository` on a better-sqlite3 database (table `agenda_jobs`).
 *
 * Safe across processes sharing one SQLite file in WAL mode: every lock is a conditional UPDATE
 * inside an IMMEDIATE transaction, so one job occurrence is locked by one process only. Writes
 * of one event-loop turn are group-committed (see {@link WriteBatcher}); reads first commit what
 * is queued, so a caller always reads its own writes.
 *
 * `unique()` constraints are matched on their exact canonical value (keys like `'data.key'` with
 * plain values), not as a MongoDB query; operators are rejected.
 */
export class SqliteJobRepository implements JobRepository {
  private readonly batcher: WriteBatcher;
  private readonly lockBatchSize: number;
  private readonly migrate: boolean;
  private stmts: Statements | undefined;
  /** Statements built from filters (remove by id runs once per finished timer): prepared once per shape. */
  private readonly dynamic = new Map<string, Statement>();
  /** Jobs this process locked in a batch and has not handed to agenda yet, per job name. */
  private readonly prefetched = new Map<string, JobParameters[]>();
  /** Job names whose last lock batch was full: more may be due. */
  private readonly lastBatchFull = new Set<string>();
  /** Jobs handed to agenda and not finished yet: id -> name. */
  private readonly handedOut = new Map<string, string>();
  private readonly wakeQueued = new Set<string>();
  private readonly dueTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly onDue: ((jobName: string) => void) | undefined;

  constructor(
    private readonly db: Database.Database,
    options: SqliteJobRepositoryOptions = {},
  ) {
    this.batcher = new WriteBatcher(db);
    this.lockBatchSize = Math.max(1, options.lockBatchSize ?? 200);
    this.migrate = options.migrate ?? true;
    this.onDue = options.onDue;
  }

  /** The borrowed database handle (for the timer store, which shares the jobs table). @internal */
  get database(): Database.Database {
    return this.db;
  }

  /**
   * Runs `run` in the next group commit, with agenda's own writes on this handle.
   * @internal
   */
  write<T>(run: () => T): Promise<T> {
    return this.batcher.enqueue(run);
  }

  /**
   * Runs `run` at once, in one transaction with every write queued before it.
   * @internal
   */
  writeNow<T>(run: () => T): Promise<T> {
    return this.batcher.now(run);
  }

  async connect(): Promise<void> {
    if (this.migrate) migrateAgendaTables(this.db);
    this.prepare();
  }

  /**
   * Commits queued writes and unlocks the jobs locked ahead for agenda but never handed to it.
   * Does not close the database: the store owns it.
   */
  async disconnect(): Promise<void> {
    if (!this.stmts || !this.db.open) return;
    const held = [...this.prefetched.values()].flat();
    this.prefetched.clear();
    for (const { timer } of this.dueTimers.values()) clearTimeout(timer);
    this.dueTimers.clear();
    const s = this.stmts;
    await this.batcher.now(() => {
      for (const job of held) s.unlockIfLockedAt.run(Number(job._id), toMs(job.lockedAt));
    });
  }

  private prepare(): void {
    if (this.stmts) return;
    const db = this.db;
    this.stmts = {
      insert: db.prepare(`${INSERT_SQL} RETURNING *`),
      insertUniqueOnce: db.prepare(
        `${INSERT_SQL} ON CONFLICT (name, unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING *`,
      ),
      upsertUnique: db.prepare(
        `${INSERT_SQL} ON CONFLICT (name, unique_key) WHERE unique_key IS NOT NULL DO UPDATE SET ${SET_FROM_EXCLUDED.join(', ')} RETURNING *`,
      ),
      upsertSingle: db.prepare(
        `${INSERT_SQL} ON CONFLICT (name) WHERE type = 'single' DO UPDATE SET ${SET_FROM_EXCLUDED.filter((s) => !s.startsWith('next_run_at')).join(', ')},
         next_run_at = CASE WHEN @protect_next_run_at = 1 THEN agenda_jobs.next_run_at ELSE excluded.next_run_at END RETURNING *`,
      ),
      updateById: db.prepare(`UPDATE agenda_jobs SET ${SET_FROM_PARAMS.join(', ')} WHERE id = @id AND name = @name RETURNING *`),
      byId: db.prepare('SELECT * FROM agenda_jobs WHERE id = ?'),
      byUniqueKey: db.prepare('SELECT * FROM agenda_jobs WHERE name = ? AND unique_key = ?'),
      saveState: db.prepare(
        `UPDATE agenda_jobs SET locked_at = @locked_at, next_run_at = @next_run_at, last_run_at = @last_run_at,
           progress = @progress, fail_reason = @fail_reason, fail_count = @fail_count, failed_at = @failed_at,
           last_finished_at = @last_finished_at, last_modified_by = @last_modified_by
         WHERE id = @id AND name = @name`,
      ),
      lockOne: db.prepare(
        `UPDATE agenda_jobs SET locked_at = @now, last_modified_by = @by
         WHERE id = @id AND name = @name AND locked_at IS NULL AND next_run_at IS @next_run_at AND disabled = 0 RETURNING *`,
      ),
      lockById: db.prepare('UPDATE agenda_jobs SET locked_at = @now, last_modified_by = @by WHERE id = @id RETURNING *'),
      expiredIds: db.prepare(
        `SELECT id FROM agenda_jobs WHERE name = ? AND locked_at IS NOT NULL AND locked_at <= ? AND disabled = 0 ORDER BY locked_at ${limitBy()}`,
      ),
      dueIds: db.prepare(
        `SELECT id FROM agenda_jobs INDEXED BY agenda_jobs_due
         WHERE name = ? AND locked_at IS NULL AND disabled = 0 AND next_run_at <= ?
         ORDER BY next_run_at, priority DESC ${limitBy()}`,
      ),
      nextDue: db.prepare(
        'SELECT min(next_run_at) AS at FROM agenda_jobs INDEXED BY agenda_jobs_due WHERE name = ? AND locked_at IS NULL AND disabled = 0',
      ),
      unlockOne: db.prepare('UPDATE agenda_jobs SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL'),
      unlockIfLockedAt: db.prepare('UPDATE agenda_jobs SET locked_at = NULL WHERE id = ? AND locked_at = ?'),
      queueSize: db.prepare('SELECT count(*) AS n FROM agenda_jobs WHERE next_run_at < ?'),
      distinctNames: db.prepare('SELECT DISTINCT name FROM agenda_jobs ORDER BY name'),
      purge: db.prepare('DELETE FROM agenda_jobs'),
    };
  }

  private sql(text: string): Statement {
    let stmt = this.dynamic.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      if (this.dynamic.size < 500) this.dynamic.set(text, stmt);
    }
    return stmt;
  }

  private get s(): Statements {
    if (!this.stmts) throw new Error('SqliteJobRepository: connect() was not called');
    return this.stmts;
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const where = queryOptionsWhere(options);
    const skip = Math.max(0, options.skip ?? 0);
    const limit = Math.max(0, options.limit ?? 0);
    const now = new Date();
    const order = orderBy(options.sort);
    return this.batcher.now(() => {
      const withState = (row: JobRow): JobWithState => {
        const job = rowToJob(row);
        return { ...job, _id: job._id as JobId, state: computeJobState(job, now) };
      };
      if (!options.state) {
        const page = this.sql(`SELECT * FROM agenda_jobs WHERE ${where.sql} ORDER BY ${order} ${limitBy()} OFFSET ?`)
          .all(...where.params, limit > 0 ? limit : -1, skip) as JobRow[];
        const { n } = this.sql(`SELECT count(*) AS n FROM agenda_jobs WHERE ${where.sql}`).get(...where.params) as {
          n: number;
        };
        return { jobs: page.map(withState), total: n };
      }
      const rows = this.sql(`SELECT * FROM agenda_jobs WHERE ${where.sql} ORDER BY ${order}`).all(...where.params) as JobRow[];
      const matching = rows
        .map(withState)
        .filter((job) => (options.state === 'paused' ? job.disabled === true : job.state === options.state));
      const jobs = limit > 0 ? matching.slice(skip, skip + limit) : matching.slice(skip);
      return { jobs, total: matching.length };
    });
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    return this.batcher.now(() => {
      const byName = new Map<string, JobsOverview>();
      const rows = this.db
        .prepare('SELECT name, locked_at, last_finished_at, failed_at, next_run_at, repeat_interval, disabled FROM agenda_jobs')
        .all() as Pick<JobRow, 'name' | 'locked_at' | 'last_finished_at' | 'failed_at' | 'next_run_at' | 'repeat_interval' | 'disabled'>[];
      for (const row of rows) {
        let o = byName.get(row.name);
        if (!o) {
          o = { name: row.name, total: 0, running: 0, scheduled: 0, queued: 0, completed: 0, failed: 0, repeating: 0, paused: 0 };
          byName.set(row.name, o);
        }
        const state = computeJobState(
          {
            name: row.name,
            priority: 0,
            type: 'normal',
            data: undefined,
            nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
            lockedAt: row.locked_at === null ? undefined : new Date(row.locked_at),
            lastFinishedAt: row.last_finished_at === null ? undefined : new Date(row.last_finished_at),
            failedAt: row.failed_at === null ? undefined : new Date(row.failed_at),
            repeatInterval: row.repeat_interval === null ? undefined : (JSON.parse(row.repeat_interval) as string | number),
          },
          now,
        );
        o.total++;
        o[state]++;
        if (row.disabled === 1) o.paused++;
      }
      return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  async getDistinctJobNames(): Promise<string[]> {
    return this.batcher.now(() => (this.s.distinctNames.all() as { name: string }[]).map((r) => r.name));
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    if (!/^\d+$/.test(id)) return null;
    return this.batcher.now(() => {
      const row = this.s.byId.get(Number(id)) as JobRow | undefined;
      return row ? rowToJob(row) : null;
    });
  }

  async getQueueSize(): Promise<number> {
    return this.batcher.now(() => (this.s.queueSize.get(Date.now()) as { n: number }).n);
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const where = removeOptionsWhere(options);
    if (!where) return 0;
    return this.batcher.enqueue(() => this.sql(`DELETE FROM agenda_jobs WHERE ${where.sql}`).run(...where.params).changes);
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, 1);
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    return this.setDisabled(options, 0);
  }

  private async setDisabled(options: RemoveJobsOptions, disabled: 0 | 1): Promise<number> {
    const where = removeOptionsWhere(options);
    if (!where) return 0;
    return this.batcher.enqueue(
      () => this.sql(`UPDATE agenda_jobs SET disabled = ? WHERE ${where.sql} AND disabled <> ?`).run(disabled, ...where.params, disabled).changes,
    );
  }

  async purgeAllJobs(): Promise<number> {
    this.prefetched.clear();
    return this.batcher.enqueue(() => this.s.purge.run().changes);
  }

  async saveJob<DATA = unknown>(job: JobParameters<DATA>, options: JobRepositoryOptions | undefined): Promise<JobParameters<DATA>> {
    const fields = userFields(job as JobParameters, options?.lastModifiedBy);
    const uniqueKey = job.unique && job.type !== 'single' ? canonicalUniqueKey(job.unique) : null;
    const saved = await this.batcher.enqueue(() => this.saveJobNow(job as JobParameters, fields, uniqueKey));
    if (saved.nextRunAt && !saved.disabled) this.dueAt(saved.name, saved.nextRunAt.getTime());
    return saved as JobParameters<DATA>;
  }

  private saveJobNow(job: JobParameters, fields: UserFieldValues, uniqueKey: string | null): JobParameters {
    const s = this.s;
    const one = (stmt: Statement, params: object): JobParameters | undefined => {
      const row = stmt.get(params) as JobRow | undefined;
      return row ? rowToJob(row) : undefined;
    };
    if (job._id) {
      // A job removed meanwhile keeps its caller's data, as with the Mongo backend.
      return one(s.updateById, { ...fields, id: Number(job._id) }) ?? job;
    }
    const now = Date.now();
    if (fields.type === 'single') {
      const protect = fields.next_run_at !== null && fields.next_run_at <= now ? 1 : 0;
      return one(s.upsertSingle, { ...fields, unique_key: null, protect_next_run_at: protect }) as JobParameters;
    }
    if (uniqueKey === null) return one(s.insert, { ...fields, unique_key: null }) as JobParameters;

    const debounce = job.uniqueOpts?.debounce;
    if (debounce) {
      const existing = s.byUniqueKey.get(fields.name, uniqueKey) as JobRow | undefined;
      if (existing) {
        const startedAt = existing.debounce_started_at ?? now;
        let nextRunAt: number | null;
        let debounceStartedAt: number | null;
        if (debounce.strategy === 'leading') {
          nextRunAt = existing.next_run_at;
          debounceStartedAt = startedAt;
        } else if (debounce.maxWait && now - startedAt >= debounce.maxWait) {
          nextRunAt = now;
          debounceStartedAt = null;
        } else {
          nextRunAt = now + debounce.delay;
          debounceStartedAt = startedAt;
        }
        return one(s.updateById, { ...fields, next_run_at: nextRunAt, debounce_started_at: debounceStartedAt, id: existing.id }) as JobParameters;
      }
      const fresh =
        debounce.strategy === 'leading'
          ? { ...fields, debounce_started_at: now }
          : { ...fields, next_run_at: now + debounce.delay, debounce_started_at: now };
      return one(s.upsertUnique, { ...fresh, unique_key: uniqueKey }) as JobParameters;
    }
    if (job.uniqueOpts?.insertOnly) {
      const inserted = one(s.insertUniqueOnce, { ...fields, unique_key: uniqueKey });
      if (inserted) return inserted;
      return rowToJob(s.byUniqueKey.get(fields.name, uniqueKey) as JobRow);
    }
    return one(s.upsertUnique, { ...fields, unique_key: uniqueKey }) as JobParameters;
  }

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const params = {
      id: Number(job._id),
      name: job.name,
      locked_at: toMs(job.lockedAt),
      next_run_at: toMs(job.nextRunAt),
      last_run_at: toMs(job.lastRunAt),
      progress: job.progress ?? null,
      fail_reason: job.failReason ?? null,
      fail_count: job.failCount ?? null,
      failed_at: toMs(job.failedAt),
      last_finished_at: toMs(job.lastFinishedAt),
      last_modified_by: options?.lastModifiedBy ?? null,
    };
    try {
      await this.batcher.enqueue(() => {
        if (this.s.saveState.run(params).changes !== 1) {
          throw new Error(`job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`);
        }
      });
    } finally {
      // A retry or the next cron occurrence: wake up for it. No lock: the run is over.
      if (params.next_run_at !== null && params.locked_at === null) this.dueAt(job.name, params.next_run_at);
      if (params.locked_at === null) this.finished(String(job._id));
    }
  }

  async lockJob(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const params = {
      id: Number(job._id),
      name: job.name,
      next_run_at: toMs(job.nextRunAt),
      now: Date.now(),
      by: options?.lastModifiedBy ?? null,
    };
    return this.batcher.now(() => {
      const row = this.s.lockOne.get(params) as JobRow | undefined;
      return row ? rowToJob(row) : undefined;
    });
  }

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    const id = Number(job._id);
    // agenda calls this without awaiting: it must never reject.
    await this.batcher.enqueue(() => this.s.unlockOne.run(id)).catch(() => undefined);
    this.finished(String(id));
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    const ids = jobIds.map(String).filter((id) => /^\d+$/.test(id));
    if (ids.length === 0) return;
    await this.batcher.enqueue(() => {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        this.sql(`UPDATE agenda_jobs SET locked_at = NULL WHERE id IN (${chunk.map(() => '?').join(',')})`).run(...chunk.map(Number));
      }
    });
    ids.forEach((id) => this.finished(id));
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const held = this.prefetched.get(jobName);
    const deadline = lockDeadline.getTime();
    while (held && held.length > 0) {
      const job = held.shift() as JobParameters;
      // A lock held here past its lifetime may already belong to another process: never hand it out.
      if (job.lockedAt && job.lockedAt.getTime() > deadline) return this.handOut(job);
    }
    const lockTime = (now ?? new Date()).getTime();
    const by = options?.lastModifiedBy ?? null;
    const s = this.s;
    // Only jobs already due, not those due before `nextScanAt`: agenda keeps early jobs in a queue
    // it re-sorts and re-walks on every timeout (quadratic with thousands of them); instead, a timer
    // here wakes agenda at the next due time (see `onDue`).
    const dueBy = Math.min(nextScanAt.getTime(), lockTime);
    const { batch, nextDue } = await this.batcher.now(() => {
      // Expired locks first (their owner died mid-run), then due jobs in (nextRunAt, priority) order.
      const ids = (s.expiredIds.all(jobName, deadline, this.lockBatchSize) as { id: number }[]).map((r) => r.id);
      if (ids.length < this.lockBatchSize) {
        for (const r of s.dueIds.all(jobName, dueBy, this.lockBatchSize - ids.length) as { id: number }[]) {
          ids.push(r.id);
        }
      }
      const locked = ids.map((id) => rowToJob(s.lockById.get({ id, now: lockTime, by }) as JobRow));
      const next = ids.length < this.lockBatchSize ? (s.nextDue.get(jobName) as { at: number | null }).at : null;
      return { batch: locked, nextDue: next };
    });
    if (batch.length === this.lockBatchSize) this.lastBatchFull.add(jobName);
    else this.lastBatchFull.delete(jobName);
    if (nextDue !== null) this.dueAt(jobName, nextDue);
    const [first, ...rest] = batch;
    if (rest.length > 0) this.prefetched.set(jobName, rest);
    return first ? this.handOut(first) : undefined;
  }

  private handOut(job: JobParameters): JobParameters {
    this.handedOut.set(String(job._id), job.name);
    return job;
  }

  /** A job handed to agenda is done (or given back): if more are due, let agenda take the next. */
  private finished(id: string): void {
    const name = this.handedOut.get(id);
    if (name === undefined) return;
    this.handedOut.delete(id);
    if ((this.prefetched.get(name)?.length ?? 0) > 0 || this.lastBatchFull.has(name)) this.wake(name);
  }

  /** Wakes agenda at `at` for `jobName`, keeping one timer per name, for the earliest time asked. */
  private dueAt(jobName: string, at: number): void {
    if (!this.onDue) return;
    const delay = at - Date.now();
    if (delay <= 0) {
      this.wake(jobName);
      return;
    }
    const armed = this.dueTimers.get(jobName);
    if (armed && armed.at <= at) return;
    if (armed) clearTimeout(armed.timer);
    const timer = setTimeout(() => {
      this.dueTimers.delete(jobName);
      this.wake(jobName);
    }, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    this.dueTimers.set(jobName, { at, timer });
  }

  /** At most one wake per job name per event-loop turn. */
  private wake(jobName: string): void {
    const onDue = this.onDue;
    if (!onDue || this.wakeQueued.has(jobName)) return;
    this.wakeQueued.add(jobName);
    setImmediate(() => {
      this.wakeQueued.delete(jobName);
      onDue(jobName);
    });
  }
}
