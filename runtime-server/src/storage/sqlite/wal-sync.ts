import { closeSync, fdatasync, fsync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes commits already written to a SQLite WAL durable without blocking the event loop.
 *
 * At `synchronous = NORMAL` a WAL-mode commit is written to the WAL file but not synced; SQLite's
 * `FULL` would fsync inside the commit, on the thread that commits, which for better-sqlite3 is the
 * event loop (3-7 ms here, every time). The WAL is append-only and recovered in order up to the
 * first frame whose checksum fails, so one `fdatasync` of the WAL file after a commit returns makes
 * that commit and every earlier one durable: exactly what `FULL` guarantees, done on libuv's thread
 * pool. Callers that arrive while a sync is running share the next one (group commit), so a burst
 * of acknowledgements costs one or two syncs, not one each.
 *
 * A checkpoint that copies WAL frames into the database syncs both files itself (SQLite does this
 * at every level but OFF), so a WAL restart cannot undo what a sync here made durable.
 */
export class WalSync {
  #fd: number | undefined;
  #dirSynced = false;
  /** The sync on the thread pool now, if any, with its callers' settlement. */
  #running: Promise<void> | undefined;
  /** That sync itself: rejects when it fails. */
  #syncing: Promise<void> | undefined;
  /** Callers waiting for a sync that starts after they asked. */
  #waiting: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  #closed = false;
  #completed = 0;

  /**
   * @param beforeSync runs as each sync starts, and what it returns once that sync is done: a way
   *   to note what the sync covers (say the highest row id committed so far) and learn when it
   *   is durable.
   */
  constructor(
    private readonly walFile: string,
    private readonly beforeSync: () => (() => void) | void = () => undefined,
  ) {}

  /** Syncs finished so far (each may have served many callers). */
  get completed(): number {
    return this.#completed;
  }

  /**
   * The sync running now, if any: it covers what was committed before it started (see
   * `beforeSync`), so a caller that knows its commit is that old need not wait for the next one.
   */
  get inFlight(): Promise<void> | undefined {
    return this.#syncing;
  }

  /** Resolves once every commit that returned before this call is on disk. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('The SQLite store is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      // A sync already running may have started before the caller's commit: wait for the next.
      if (!this.#running) this.#start();
    });
  }

  /** Waits for a sync in progress, then closes the file; later calls to `sync` reject. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running) await this.#running;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #start(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    const covered = this.beforeSync();
    this.#syncing = this.#syncOnce();
    this.#running = this.#syncing.then(
      () => {
        covered?.();
        batch.forEach((w) => w.resolve());
      },
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
    void this.#running.finally(() => {
      this.#running = undefined;
      this.#syncing = undefined;
      if (this.#waiting.length > 0) this.#start();
    });
  }

  async #syncOnce(): Promise<void> {
    // Opened lazily: SQLite creates the WAL file with the first transaction, after the store opens.
    // Any descriptor of the file will do: Linux syncs the file, not the descriptor's own writes.
    this.#fd ??= openSync(this.walFile, 'r');
    const fd = this.#fd;
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    this.#completed += 1;
    if (!this.#dirSynced) {
      // Once: the directory entry of a newly created WAL file must survive a power loss too.
      const dir = openSync(dirname(this.walFile), 'r');
      try {
        await new Promise<void>((resolve, reject) => fsync(dir, (err) => (err ? reject(err) : resolve())));
      } finally {
        closeSync(dir);
      }
      this.#dirSynced = true;
    }
  }
}
