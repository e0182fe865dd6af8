import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** What one background checkpoint did (SQLite's `wal_checkpoint` row). */
export interface CheckpointResult {
  /** 1 when another connection held the checkpoint lock, or a reader kept frames in use. */
  busy: number;
  /** Frames in the WAL when it ran (-1 when it could not start). */
  log: number;
  /** Of those, frames now copied into the database. */
  checkpointed: number;
}

export interface CheckpointerOptions {
  /** How often to checkpoint while commits come in (it backs off to 1 s when none do). Default 50 ms. */
  intervalMs?: number;
  busyTimeoutMs?: number;
  /** Called after each checkpoint (tests); without it the thread posts nothing. */
  onCheckpoint?: (result: CheckpointResult) => void;
  /**
   * Told when checkpoints stall (the disk is full or refuses writes: the thread keeps trying, once a
   * second), when they work again, and why the thread stopped on its own. Default: a process warning
   * (`CONVOFLOW_CHECKPOINTER`).
   */
  warn?: (message: string) => void;
}

/** What the thread posts. */
type WorkerMessage =
  | ({ type: 'checkpointed' } & CheckpointResult)
  | { type: 'stalled'; code: string; message: string }
  | { type: 'resumed' };

/** An error thrown in the thread reaches this one cloned: an SqliteError may lose its message. */
function describeThrown(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown };
  const parts = [e.message, e.code].filter((p): p is string => typeof p === 'string' && p !== '');
  return parts.length > 0 ? [...new Set(parts)].join(', ') : String(err);
}

const WORKER_FILE = new URL('./checkpoint-worker.cjs', import.meta.url);
/** SQLite's own default threshold, for when the background thread is gone. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/**
 * While the thread runs, the store's connection still checkpoints past this many WAL frames (64 MB
 * at 4 KB pages). Under a steady load the thread's checkpoints rarely end in a moment without a
 * new commit, and only then may the next commit start the WAL over; this bounds the WAL. By then
 * the thread has copied nearly everything, so that checkpoint on the event loop is short.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

/**
 * Copies WAL frames back into the database from a worker thread with its own connection, instead
 * of inside whichever commit crosses SQLite's 1,000-page threshold. That commit runs on the event
 * loop (better-sqlite3 is synchronous), and a checkpoint there copies the pages and syncs both
 * files: milliseconds of stalled requests, many times a second under load.
 *
 * While the thread runs, `db` (the store's connection) checkpoints only past
 * BACKSTOP_AUTOCHECKPOINT_PAGES. Once the thread has exited (stopped, or died), `db` is back on
 * SQLite's default.
 */
export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #stopped = false;

  constructor(
    private readonly db: Database.Database,
    file: string,
    options: CheckpointerOptions = {},
  ) {
    this.#worker = new Worker(WORKER_FILE, {
      workerData: {
        file,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: options.intervalMs ?? 50,
        busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        report: options.onCheckpoint !== undefined,
      },
      // Plain JavaScript: no need for the loaders (tsx) the main thread was started with.
      execArgv: [],
      // The thread's V8 heap stays small: it only holds a connection.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    // A checkpointer never keeps the process alive on its own.
    this.#worker.unref();
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
    const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'CONVOFLOW_CHECKPOINTER' }));
    const onCheckpoint = options.onCheckpoint;
    this.#worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'checkpointed') onCheckpoint?.({ busy: message.busy, log: message.log, checkpointed: message.checkpointed });
      else if (message.type === 'stalled') {
        warn(`Background WAL checkpoints of ${file} cannot write the database (${message.message}); the WAL grows until they can, and they are retried every second`);
      } else if (message.type === 'resumed') warn(`Background WAL checkpoints of ${file} work again`);
    });
    this.#exited = new Promise<void>((resolve) => {
      this.#worker.once('error', (err: unknown) => {
        warn(`Background WAL checkpoints of ${file} stopped (${describeThrown(err)}); the store's connection checkpoints again`);
      });
      this.#worker.once('exit', () => {
        if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
        resolve();
      });
    });
  }

  /** Stops the thread and closes its connection; resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      // Unreferenced, the thread would not keep the process alive until it has closed: with
      // nothing else left to do, the process would exit here and the store's close() never end.
      this.#worker.ref();
      this.#worker.postMessage('stop');
    }
    await this.#exited;
  }
}
