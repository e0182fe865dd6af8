import type Database from 'better-sqlite3';
import type { AgendaBackend, JobRepository } from 'agenda';
import { SqliteJobRepository, type SqliteJobRepositoryOptions } from './sqlite-job-repository.js';

/**
 * agenda 6 backend on a better-sqlite3 database: the embedded default of Convoflow's scheduler.
 * Storage only (no cross-process notifications; agenda polls every `processEvery`).
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
export class SqliteAgendaBackend implements AgendaBackend {
  readonly name = 'SQLite';
  readonly ownsConnection = false;
  private readonly repo: SqliteJobRepository;

  constructor(db: Database.Database, options: SqliteJobRepositoryOptions = {}) {
    this.repo = new SqliteJobRepository(db, options);
  }

  get repository(): JobRepository {
    return this.repo;
  }

  async connect(): Promise<void> {
    await this.repo.connect();
  }

  async disconnect(): Promise<void> {
    await this.repo.disconnect();
  }
}
