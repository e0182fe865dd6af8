import type { JsonObject } from '@convoflow/engine';

/** A due timer this process has locked and is about to deliver. @internal */
export interface ClaimedTimer {
  /** The store's row/document id. */
  id: string;
  timerId: string;
  dueAt: number;
  payload: JsonObject;
  /** Failures so far (0 on the first delivery). */
  failCount: number;
}

/** What happened to a delivered timer that failed. @internal */
export interface TimerFailure {
  id: string;
  failCount: number;
  reason: string;
  failedAt: number;
  /** When to try again; `null` when retries are exhausted (the timer stays, marked failed). */
  retryAt: number | null;
}

/**
 * Batch access to the one-shot timer rows in the scheduler's store, for {@link TimerPump}.
 * Timers stay agenda jobs named `convoflow.timer` (same rows, same fields), but are locked and
 * settled many at a time instead of through one agenda Job each.
 * @internal
 */
export interface TimerStore {
  /**
   * Stores a timer as agenda would store `create(name, {key, dueAt, payload}).schedule(dueAt)
   * .unique({'data.key': timerId}, {insertOnly: true})`: a pending timer with that id is kept as is.
   */
  schedule(timerId: string, dueAt: number, payload: JsonObject, owner: string): Promise<void>;
  /**
   * Atomically locks up to `limit` due timers for `owner` and returns them: unlocked ones due by
   * `now`, and ones whose lock is older than `now - lockLifetimeMs` (their process died). No two
   * callers ever get the same timer under a live lock.
   */
  claimDue(now: number, limit: number, owner: string, lockLifetimeMs: number): Promise<ClaimedTimer[]>;
  /** Earliest due time of an unlocked pending timer, or `null`. */
  nextDueAt(): Promise<number | null>;
  /** Removes fired timers (one group commit per call). */
  complete(ids: string[]): Promise<void>;
  /** Records failures: unlocks with a retry time, or marks exhausted. */
  fail(failures: TimerFailure[]): Promise<void>;
  /** Refreshes the locks of timers whose handlers are still running. */
  touch(ids: string[], now: number): Promise<void>;
}

/** A backend that can hand out a {@link TimerStore} over its jobs. @internal */
export interface TimerStoreProvider {
  timerStore(jobName: string): TimerStore;
}

/** Whether `backend` offers batch timer access. @internal */
export function isTimerStoreProvider(backend: unknown): backend is TimerStoreProvider {
  return typeof (backend as Partial<TimerStoreProvider> | null)?.timerStore === 'function';
}
