import type { BackoffStrategy } from 'agenda';
import type { FiredTimer } from '../scheduler-port.js';
import { isTransientStorageError, storeRetryDelayMs } from '../../storage/errors.js';
import type { ClaimedTimer, TimerFailure, TimerStore } from './timer-store.js';

/** Options of {@link TimerPump}. @internal */
export interface TimerPumpOptions {
  /** agenda job name the timers are stored under (for backoff context and error messages). */
  jobName: string;
  /** Recorded on the rows this process locks. */
  owner: string;
  /** Timers delivered at once. */
  concurrency: number;
  /** Most timers locked by one claim. */
  claimBatchSize: number;
  /** How often the store is polled for timers saved by other processes, ms. */
  processEvery: number;
  lockLifetimeMs: number;
  backoff: BackoffStrategy;
  deliver: (timer: FiredTimer) => Promise<void>;
  onError?: (error: Error) => void;
}

/**
 * Fires one-shot timers in batches: claims due rows with one atomic store call, delivers them with
 * bounded concurrency, and settles the outcomes of one event-loop turn in one write (deletes for
 * fired timers, backoff for failed ones). Wakes at the earliest due time it knows of (timers this
 * process scheduled, or the store's next one at the last claim) and polls every `processEvery` for
 * timers other processes saved. The timers themselves only ever live in the store.
 * @internal
 */
export class TimerPump {
  private store: TimerStore | undefined;
  private started = false;
  private readonly running = new Map<string, ClaimedTimer>();
  private pumping: Promise<void> | undefined;
  private again = false;
  private turnQueued = false;
  private poll: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;
  private fired: string[] = [];
  private failed: TimerFailure[] = [];
  private readonly writes = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: TimerPumpOptions) {}

  /** Starts claiming due timers from `store`. */
  start(store: TimerStore): void {
    this.store = store;
    this.started = true;
    this.poll = setInterval(() => this.kick(), this.options.processEvery);
    // One heartbeat for every running handler: a long handler keeps its lock, so it is not run twice.
    this.heartbeat = setInterval(() => {
      if (this.running.size > 0 && this.store) this.track(this.store.touch([...this.running.keys()], Date.now()));
    }, Math.max(1, Math.floor(this.options.lockLifetimeMs / 3)));
    this.kick();
  }

  /** A timer due at `dueAt` was saved: fire it on time rather than at the next poll. */
  notify(dueAt: number): void {
    if (!this.started) return;
    const delay = dueAt - Date.now();
    if (delay <= 0) {
      this.soon();
      return;
    }
    if (this.wake && this.wake.at <= dueAt) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.kick();
    }, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    this.wake = { at: dueAt, timer };
  }

  /**
   * Stops claiming; resolves once running handlers have finished (or `timeoutMs` passed) and the
   * outcomes are written. Nothing is claimed without being started, so there is nothing to release.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.started = false;
    clearInterval(this.poll);
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    await this.pumping;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.whenIdle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(this.heartbeat);
    this.settle();
    await Promise.all([...this.writes]);
  }

  private whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Settles and claims once per event-loop turn, so the outcomes of one turn share one write. */
  private soon(): void {
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(() => {
      this.turnQueued = false;
      this.settle();
      this.kick();
    });
  }

  private kick(): void {
    if (!this.started) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
    });
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.fill();
      } while (this.again && this.started);
    } catch (error) {
      this.report(error);
    }
  }

  private async fill(): Promise<void> {
    const store = this.store;
    if (!store) return;
    const { concurrency, claimBatchSize, owner, lockLifetimeMs } = this.options;
    for (;;) {
      if (!this.started) return;
      const free = concurrency - this.running.size;
      // Full: a finishing handler calls soon(), which claims again.
      if (free <= 0) return;
      const ask = Math.min(free, claimBatchSize);
      const claimed = await store.claimDue(Date.now(), ask, owner, lockLifetimeMs);
      for (const timer of claimed) this.launch(timer);
      if (claimed.length < ask) break;
    }
    const next = await store.nextDueAt();
    if (next !== null && next > Date.now()) this.notify(next);
    else if (next !== null) this.again = true;
  }

  private launch(timer: ClaimedTimer): void {
    this.running.set(timer.id, timer);
    const attempt = timer.failCount + 1;
    const fired: FiredTimer = { kind: 'timer', timerId: timer.timerId, dueAt: timer.dueAt, payload: timer.payload, attempt, firedAt: Date.now() };
    let delivery: Promise<void>;
    try {
      delivery = this.options.deliver(fired);
    } catch (error) {
      delivery = Promise.reject(error);
    }
    delivery
      .then(
        () => {
          this.fired.push(timer.id);
        },
        (error: unknown) => this.failure(timer, attempt, error),
      )
      .finally(() => {
        this.running.delete(timer.id);
        if (this.running.size === 0 && this.idleWaiters.length > 0) {
          // Outcomes first, so stop() awaits their write.
          this.settle();
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          waiters.forEach((w) => w());
        }
        this.soon();
      });
  }

  private failure(timer: ClaimedTimer, failCount: number, thrown: unknown): void {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const now = Date.now();
    const { jobName, backoff } = this.options;
    // A store that cannot take the delivery now (disk full, locked, unreachable) is no fault of the
    // timer: it is retried soon, and until the store can, never by the policy meant for failing
    // handlers (minutes apart, then given up, which would leave its run waiting for good).
    const delay = isTransientStorageError(error)
      ? storeRetryDelayMs(failCount)
      : backoff({ attempt: failCount, error, jobName, jobData: { key: timer.timerId, dueAt: timer.dueAt, payload: timer.payload } });
    const retryAt = delay === null ? null : now + delay;
    this.failed.push({ id: timer.id, failCount, reason: error.message, failedAt: now, retryAt });
    if (retryAt === null) {
      this.options.onError?.(new Error(`${jobName} ${timer.timerId} gave up after ${failCount} failures: ${error.message}`));
    } else {
      this.notify(retryAt);
    }
  }

  /** Writes the outcomes gathered so far. */
  private settle(): void {
    const store = this.store;
    if (!store) return;
    if (this.fired.length > 0) {
      this.track(store.complete(this.fired));
      this.fired = [];
    }
    if (this.failed.length > 0) {
      this.track(store.fail(this.failed));
      this.failed = [];
    }
  }

  private track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => this.report(error)).finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  private report(error: unknown): void {
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}
