import { toJobId, type JobParameters } from 'agenda';

/**
 * One row of `agenda_jobs` as better-sqlite3 returns it. Dates are epoch milliseconds,
 * structured values are JSON text.
 * @internal
 */
export interface JobRow {
  id: number;
  name: string;
  priority: number;
  next_run_at: number | null;
  type: string;
  locked_at: number | null;
  last_run_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  repeat_interval: string | null;
  repeat_timezone: string | null;
  repeat_at: string | null;
  disabled: number;
  progress: number | null;
  data: string | null;
  unique_key: string | null;
  unique_opts: string | null;
  debounce_started_at: number | null;
  last_modified_by: string | null;
  fork: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
}

/** Column values for the fields a caller of `saveJob` owns (never the processor-managed ones). @internal */
export interface UserFieldValues {
  name: string;
  priority: number;
  next_run_at: number | null;
  type: string;
  repeat_interval: string | null;
  repeat_timezone: string | null;
  repeat_at: string | null;
  disabled: number;
  data: string | null;
  unique_opts: string | null;
  debounce_started_at: number | null;
  last_modified_by: string | null;
  fork: number | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
}

/** @internal */
export const toMs = (d: Date | string | number | null | undefined): number | null =>
  d === null || d === undefined ? null : new Date(d).getTime();

const toDate = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));

const parseJson = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

const toJson = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/**
 * Maps a row to agenda's JobParameters (absent values become `undefined`, as the Mongo backend does).
 * @internal
 */
export function rowToJob(row: JobRow): JobParameters {
  const repeatInterval = parseJson(row.repeat_interval) as string | number | undefined;
  const uniqueOpts = parseJson(row.unique_opts) as JobParameters['uniqueOpts'];
  const skipDays = parseJson(row.skip_days) as number[] | undefined;
  const job: JobParameters = {
    _id: toJobId(String(row.id)),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type === 'single' ? 'single' : 'normal',
    data: parseJson(row.data),
    lockedAt: toDate(row.locked_at),
    lastRunAt: toDate(row.last_run_at),
    lastFinishedAt: toDate(row.last_finished_at),
    failedAt: toDate(row.failed_at),
    failCount: row.fail_count ?? undefined,
    failReason: row.fail_reason ?? undefined,
    repeatInterval,
    repeatTimezone: row.repeat_timezone ?? undefined,
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1 ? true : undefined,
    progress: row.progress ?? undefined,
    unique: row.unique_key === null ? undefined : (JSON.parse(row.unique_key) as Record<string, unknown>),
    uniqueOpts,
    debounceStartedAt: toDate(row.debounce_started_at),
    lastModifiedBy: row.last_modified_by ?? undefined,
    fork: row.fork === null ? undefined : row.fork === 1,
    startDate: toDate(row.start_date),
    endDate: toDate(row.end_date),
    skipDays,
  };
  return job;
}

/**
 * The caller-owned column values of a job about to be saved.
 * @internal
 */
export function userFields(job: JobParameters, lastModifiedBy: string | undefined): UserFieldValues {
  return {
    name: job.name,
    priority: job.priority ?? 0,
    next_run_at: toMs(job.nextRunAt),
    type: job.type === 'single' ? 'single' : 'normal',
    repeat_interval: toJson(job.repeatInterval),
    repeat_timezone: job.repeatTimezone ?? null,
    repeat_at: job.repeatAt ?? null,
    disabled: job.disabled === true ? 1 : 0,
    data: toJson(job.data),
    unique_opts: toJson(job.uniqueOpts),
    debounce_started_at: toMs(job.debounceStartedAt),
    last_modified_by: lastModifiedBy ?? null,
    fork: job.fork === undefined ? null : job.fork ? 1 : 0,
    start_date: toMs(job.startDate),
    end_date: toMs(job.endDate),
    skip_days: toJson(job.skipDays),
  };
}

/**
 * Canonical text of a `unique` constraint (keys sorted at every depth), so that equal constraints
 * always produce the same indexed value.
 * @internal
 */
export function canonicalUniqueKey(unique: Record<string, unknown>): string {
  for (const key of Object.keys(unique)) {
    if (key.startsWith('$')) {
      throw new Error(`Operator "${key}" is not supported in a unique() constraint by the SQLite backend`);
    }
  }
  return JSON.stringify(sortKeys(unique));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, sortKeys(v)] as const);
    return Object.fromEntries(entries);
  }
  return value;
}
