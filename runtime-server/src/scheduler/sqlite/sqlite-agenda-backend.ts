import type Database from 'better-sqlite3';
import type { AgendaBackend, JobRepository, NotificationChannel } from 'agenda';
import { WakeupChannel } from '../internal/wakeup-channel.js';
import { SqliteJobRepository, type SqliteJobRepositoryOptions } from './sqlite-job-repository.js';
import { SqliteTimerStore } from './sqlite-timer-store.js';
import type { TimerStore, TimerStoreProvider } from '../internal/timer-store.js';

/**
 * agenda 6 backend on a better-sqlite3 database: the embedded default of Convoflow's scheduler.
 *
 * Its notification channel is in-process only: it wakes agenda when a job this process knows of
 * becomes due (so timers fire on time, not at the next poll) and when a finished job leaves room
 * for more due ones. Jobs saved by other processes sharing the file are found by polling
 * (`processEvery`), and woken precisely once this process has seen them.
 *
 * The database handle is borrowed, never closed: `disconnect()` only commits queued writes and
 * releases locks taken ahead of agenda (see {@link SqliteJobRepositoryOptions.lockBatchSize}).
 *
 * @example
 * ```ts
 * const backend = new SqliteAgendaBackend(db);
 * const agenda = new Agenda({ backend, processEvery: 200 });
 * ```
 */
export class SqliteAgendaBackend implements AgendaBackend, TimerStoreProvider {
  readonly name = 'SQLite';
  readonly ownsConnection = false;
  private readonly repo: SqliteJobRepository;
  private readonly channel = new WakeupChannel();

  constructor(db: Database.Database, options: Omit<SqliteJobRepositoryOptions, 'onDue'> = {}) {
    this.repo = new SqliteJobRepository(db, { ...options, onDue: (jobName) => this.channel.wake(jobName) });
  }

  get notificationChannel(): NotificationChannel {
    return this.channel;
  }

  get repository(): JobRepository {
    return this.repo;
  }

  /**
   * Batch access to the one-shot timers stored as `jobName` jobs (used by the scheduler, after
   * `connect()` has created the tables).
   * @internal
   */
  timerStore(jobName: string): TimerStore {
    return new SqliteTimerStore(this.repo, jobName);
  }

  async connect(): Promise<void> {
    await this.repo.connect();
  }

  async disconnect(): Promise<void> {
    await this.repo.disconnect();
  }
}
