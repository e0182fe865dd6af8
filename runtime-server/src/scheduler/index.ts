/**
 * Durable timers: the {@link Scheduler} port, its agenda 6 implementation, and agenda backends
 * (our SQLite one; MongoDB through `@agendajs/mongo-backend`).
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const db = new Database('./data/convoflow.db');
 * db.pragma('journal_mode = WAL');
 * db.pragma('busy_timeout = 5000');
 * const scheduler = createAgendaScheduler({ backend: new SqliteAgendaBackend(db) });
 * // or: createAgendaScheduler({ backend: createMongoSchedulerBackend(process.env.MONGODB_URI!) })
 * ```
 * @module
 */
export type { Scheduler, TimerSpec, CronSpec, FiredTimer, TimerHandler } from './scheduler-port.js';
export { createAgendaScheduler, TIMER_JOB, CRON_JOB } from './agenda-scheduler.js';
export type { AgendaScheduler, AgendaSchedulerOptions, RetryPolicy } from './agenda-scheduler.js';
export { SqliteAgendaBackend } from './sqlite/sqlite-agenda-backend.js';
export { SqliteJobRepository } from './sqlite/sqlite-job-repository.js';
export type { SqliteJobRepositoryOptions } from './sqlite/sqlite-job-repository.js';
export { migrateAgendaTables, AGENDA_JOBS_TABLE } from './sqlite/migrate-agenda-tables.js';
export { createMongoSchedulerBackend } from './mongo-backend.js';
