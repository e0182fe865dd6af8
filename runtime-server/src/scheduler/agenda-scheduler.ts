import { hostname } from 'node:os';
import { Agenda, exponential, type AgendaBackend, type Job } from 'agenda';
import { CronExpressionParser } from 'cron-parser';
import type { JsonObject } from '@convoflow/engine';
import type { CronSpec, FiredTimer, Scheduler, TimerHandler, TimerSpec } from './scheduler-port.js';
import { LockTrackingBackend } from './internal/lock-tracking-backend.js';
import { WakeupChannel } from './internal/wakeup-channel.js';
import { quietAgendaDebug } from './internal/quiet-debug.js';
import { TimerPump } from './internal/timer-pump.js';
import { isTimerStoreProvider, type TimerStore } from './internal/timer-store.js';

/** agenda job name of one-shot timers. */
export const TIMER_JOB = 'convoflow.timer';
/** agenda job name of recurring (cron) triggers. */
export const CRON_JOB = 'convoflow.cron';

interface CronJobData {
  key: string;
  payload: JsonObject;
}

/** Retry policy for a timer whose handler rejects: exponential backoff. */
export interface RetryPolicy {
  /** Delay before the first retry, ms (default 1000). */
  initialDelayMs?: number;
  /** Cap on one delay, ms (default 300,000). */
  maxDelayMs?: number;
  /**
   * Retries after the first attempt before giving up (default 10). A given-up timer stays in the
   * store as failed. A handler failing because the store cannot write (StorageError BUSY,
   * UNAVAILABLE, FULL or IO) is outside this policy: retried within seconds (`storeRetryDelayMs`)
   * until the store can, and never given up on.
   */
  maxRetries?: number;
}

/** Options of {@link createAgendaScheduler}. */
export interface AgendaSchedulerOptions {
  /** Storage: `new SqliteAgendaBackend(db)` or `new MongoBackend({ address })`. */
  backend: AgendaBackend;
  /**
   * How often the store is polled for due timers, ms (default 250). Bounds the lateness of a timer
   * saved by another process; with the SQLite backend, timers this process has seen wake it on time.
   */
  processEvery?: number;
  /**
   * Timers (and cron occurrences) this process delivers at once (default 500). One-shot timers are
   * locked only when a slot is free, so none waits locked behind a busy process.
   */
  concurrency?: number;
  /** Most one-shot timers locked by one claim (one statement), default 500. */
  claimBatchSize?: number;
  /**
   * How long a lock outlives a dead process, ms (default 30,000): a timer whose process died
   * mid-handler is delivered again after this. Running handlers keep their lock alive with a
   * heartbeat every third of it, so long handlers are not run twice.
   */
  lockLifetimeMs?: number;
  retry?: RetryPolicy;
  /** Instance name, recorded as `lastModifiedBy` on the jobs it locks (default `host:pid`). */
  name?: string;
  /** Upper bound on how long `stop()` waits for running handlers, ms (default 30,000). */
  stopTimeoutMs?: number;
  /** Errors agenda reports (store failures, handler failures, exhausted retries). */
  onError?: (error: Error) => void;
}

/** The {@link Scheduler} with the agenda instance under it, for diagnostics. */
export interface AgendaScheduler extends Scheduler {
  readonly agenda: Agenda;
}

/**
 * Creates the durable {@link Scheduler} on agenda 6. One-shot timers are `convoflow.timer` jobs
 * unique by `data.key = timerId`; recurring triggers are `convoflow.cron` jobs repeating on a cron
 * expression in a time zone. A handler that rejects is retried with exponential backoff.
 *
 * Cron jobs run through agenda. One-shot timers stay agenda jobs in agenda's store (queryable and
 * cancellable with agenda's API) but are not run one agenda `Job` each, which cost ~130 µs of CPU
 * and several writes per timer: the scheduler claims due ones in batches with one atomic update
 * (lock owner and time, like agenda's), delivers them with bounded concurrency, and deletes or
 * reschedules them in group commits. A lock older than `lockLifetimeMs` is taken over, so a dead
 * process's timers fire elsewhere; running handlers refresh their locks. The backend must be
 * {@link SqliteAgendaBackend} or {@link createMongoSchedulerBackend}'s.
 *
 * The backend connects immediately (agenda's behaviour), so timers can be scheduled before `start()`.
 *
 * @example
 * ```ts
 * // Embedded default: the store's SQLite file.
 * const scheduler = createAgendaScheduler({ backend: new SqliteAgendaBackend(db), processEvery: 500 });
 * // Scale-out: MongoDB.
 * const scheduler = createAgendaScheduler({ backend: new MongoBackend({ address: process.env.MONGODB_URI! }) });
 * scheduler.onTimer(async (t) => { ... });
 * await scheduler.start();
 * ```
 */
export function createAgendaScheduler(options: AgendaSchedulerOptions): AgendaScheduler {
  quietAgendaDebug();
  const provider = options.backend;
  if (!isTimerStoreProvider(provider)) {
    throw new TypeError('createAgendaScheduler: the backend must be a SqliteAgendaBackend or createMongoSchedulerBackend(...)');
  }
  const backend = new LockTrackingBackend(options.backend);
  const concurrency = options.concurrency ?? 500;
  // agenda leaves a liveness timer holding each finished job for half of this: shorter also means
  // less memory after a burst.
  const lockLifetime = options.lockLifetimeMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const processEvery = options.processEvery ?? 250;
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const channel = options.backend.notificationChannel ?? new WakeupChannel();
  const agenda = new Agenda({
    backend,
    name,
    processEvery,
    maxConcurrency: concurrency,
    defaultConcurrency: concurrency,
    lockLimit: concurrency,
    defaultLockLifetime: lockLifetime,
    notificationChannel: channel,
  });
  const onError = options.onError;
  if (onError) {
    agenda.on('error', (error: Error) => onError(error));
    agenda.on('retry exhausted', (error: Error, job: Job) =>
      onError(new Error(`${job.attrs.name} ${(job.attrs.data as { key?: string }).key} gave up after ${job.attrs.failCount} failures: ${error.message}`)),
    );
  }
  const maxRetries = options.retry?.maxRetries ?? 10;
  const backoff = exponential({
    delay: options.retry?.initialDelayMs ?? 1000,
    maxDelay: options.retry?.maxDelayMs ?? 300_000,
    maxRetries,
    factor: 2,
    jitter: 0.1,
  });

  let handler: TimerHandler | undefined;
  let started = false;
  const pump = new TimerPump({
    jobName: TIMER_JOB,
    owner: name,
    concurrency,
    claimBatchSize: options.claimBatchSize ?? 500,
    processEvery,
    lockLifetimeMs: lockLifetime,
    backoff,
    deliver: (fired) => {
      if (!handler) return Promise.reject(new Error('no timer handler registered (Scheduler.onTimer)'));
      return handler(fired);
    },
    onError,
  });
  let timerStore: Promise<TimerStore> | undefined;
  let readyStore: TimerStore | undefined;
  const timers = (): Promise<TimerStore> =>
    (timerStore ??= agenda.ready.then(() => (readyStore = provider.timerStore(TIMER_JOB))));
  const deliver = async (job: Job, fired: FiredTimer): Promise<void> => {
    if (!handler) throw new Error('no timer handler registered (Scheduler.onTimer)');
    // agenda only extends a lock when the job calls touch(); without it a handler running longer
    // than the lock lifetime would be taken over by another process and run twice.
    const heartbeat = setInterval(() => void job.touch().catch(() => undefined), lockLifetime / 3);
    try {
      await handler(fired);
    } finally {
      clearInterval(heartbeat);
    }
  };
  const attempt = (job: Job): number => (job.attrs.failCount ?? 0) + 1;

  agenda.define(
    CRON_JOB,
    async (job: Job<CronJobData>) => {
      const { key, payload } = job.attrs.data;
      const heldFor = backend.held.get(String(job.attrs._id));
      const dueAt = heldFor ?? job.attrs.lastRunAt?.getTime() ?? Date.now();
      await deliver(job, { kind: 'cron', cronId: key, dueAt, payload, attempt: attempt(job), firedAt: Date.now() });
    },
    { concurrency, lockLifetime, backoff },
  );

  return {
    agenda,

    async scheduleTimer({ timerId, dueAt, payload }: TimerSpec): Promise<void> {
      if (typeof timerId !== 'string' || timerId === '') throw new TypeError('timerId must be a non-empty string');
      if (!Number.isFinite(dueAt)) throw new TypeError(`dueAt must be epoch milliseconds, got ${String(dueAt)}`);
      // Not through agenda.create(...).save() nor the repository's generic saveJob: scheduling is the
      // hot path when a broadcast or a burst of waits stores thousands of timers.
      await (readyStore ?? (await timers())).schedule(timerId, dueAt, payload, name);
      // A pending timer with this id keeps its own due time; waking early for it costs one claim.
      if (started) pump.notify(dueAt);
    },

    async cancelTimer(timerId: string): Promise<boolean> {
      return (await agenda.cancel({ name: TIMER_JOB, data: { key: timerId } })) > 0;
    },

    async scheduleCron({ id, cron, timezone, payload }: CronSpec): Promise<void> {
      if (typeof id !== 'string' || id === '') throw new TypeError('cron id must be a non-empty string');
      assertTimezone(timezone);
      try {
        CronExpressionParser.parse(cron, { tz: timezone });
      } catch (error) {
        throw new TypeError(`invalid cron expression "${cron}": ${error instanceof Error ? error.message : String(error)}`);
      }
      const { jobs } = await agenda.queryJobs({ name: CRON_JOB, data: { key: id } });
      const current = jobs[0];
      if (
        current &&
        current.repeatInterval === cron &&
        current.repeatTimezone === timezone &&
        JSON.stringify((current.data as CronJobData).payload) === JSON.stringify(payload)
      ) {
        // Unchanged: keep its nextRunAt, so a re-publish at boot does not skip an occurrence that is due.
        return;
      }
      const data: CronJobData = { key: id, payload };
      await agenda
        .create(CRON_JOB, data)
        .repeatEvery(cron, { timezone, skipImmediate: true })
        .unique({ 'data.key': id })
        .save();
    },

    async cancelCron(id: string): Promise<boolean> {
      return (await agenda.cancel({ name: CRON_JOB, data: { key: id } })) > 0;
    },

    onTimer(next: TimerHandler): void {
      handler = next;
    },

    async start(): Promise<void> {
      if (!handler) throw new Error('Scheduler.start: register a handler with onTimer first');
      started = true;
      await agenda.start();
      pump.start(await timers());
    },

    async stop(): Promise<void> {
      if (started) {
        started = false;
        const deadline = Date.now() + stopTimeoutMs;
        // Releases locked-but-not-started jobs; running ones go on and are awaited below.
        await Promise.all([pump.stop(stopTimeoutMs), agenda.stop(false)]);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          backend.whenIdle(),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          }),
        ]);
        clearTimeout(timer);
      }
      await backend.disconnect();
    },
  };
}

function assertTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new TypeError(`unknown time zone "${timezone}"`);
  }
}
