import type { JsonObject } from '@convoflow/engine';

/** A one-shot timer to schedule: delay, wait-until, reply timeout, SLA. */
export interface TimerSpec {
  /** Caller-chosen id; scheduling the same id again while it is pending keeps the first one. */
  timerId: string;
  /** When it is due, epoch milliseconds (as engine effects carry it). */
  dueAt: number;
  /** Handed back untouched when the timer fires. */
  payload: JsonObject;
}

/** A recurring trigger (scheduled flows, scheduled broadcasts). */
export interface CronSpec {
  /** Caller-chosen id; scheduling the same id again replaces its expression, zone and payload. */
  id: string;
  /** Five- or six-field cron expression, e.g. `0 9 * * 1-5`. */
  cron: string;
  /** IANA zone the expression is read in, e.g. `Asia/Hong_Kong`. */
  timezone: string;
  payload: JsonObject;
}

/** What a handler receives when a timer or a cron occurrence fires. */
export type FiredTimer =
  | {
      kind: 'timer';
      timerId: string;
      /** The due time it was scheduled for. */
      dueAt: number;
      payload: JsonObject;
      /** 1 on the first delivery, 2 on the first retry after a failure, ... */
      attempt: number;
      firedAt: number;
    }
  | {
      kind: 'cron';
      cronId: string;
      /** The occurrence this firing is for (for a retry: the time the retry was due). */
      dueAt: number;
      payload: JsonObject;
      attempt: number;
      firedAt: number;
    };

/** Handles a fired timer. A rejection means "not handled": the timer is retried with backoff. */
export type TimerHandler = (timer: FiredTimer) => Promise<void>;

/**
 * Durable timers for the runtime. Every timer lives in the scheduler's store (SQLite or MongoDB),
 * never only in process memory; several processes may share one store, and each timer occurrence
 * is delivered to one of them (at least once: a process that dies mid-handler has its timer
 * delivered again after the lock lifetime).
 *
 * @example
 * ```ts
 * scheduler.onTimer(async (t) => { if (t.kind === 'timer') await runtime.timerFired(t.timerId, t.firedAt); });
 * await scheduler.start();
 * await scheduler.scheduleTimer({ timerId: `${runId}:${seq}`, dueAt: Date.now() + 60_000, payload: { runId } });
 * ```
 */
export interface Scheduler {
  /** Stores a timer. Idempotent by `timerId`: the same id twice keeps one pending timer. */
  scheduleTimer(timer: TimerSpec): Promise<void>;
  /** Removes a pending timer; resolves `false` when there was none (already fired or unknown). */
  cancelTimer(timerId: string): Promise<boolean>;
  /** Stores (or replaces) a recurring trigger. Idempotent by `id`. Throws on a bad expression or zone. */
  scheduleCron(cron: CronSpec): Promise<void>;
  /** Removes a recurring trigger; resolves `false` when there was none. */
  cancelCron(id: string): Promise<boolean>;
  /** Sets the one handler for fired timers and cron occurrences (replaces any previous one). */
  onTimer(handler: TimerHandler): void;
  /** Starts firing due timers. Scheduling and cancelling work before `start`. */
  start(): Promise<void>;
  /** Stops firing; waits for running handlers to finish and releases timers taken but not started. */
  stop(): Promise<void>;
}
