import { StorageError as ConvoflowStorageError } from '@convoflow/engine';

/**
 * Why a storage operation failed, as a stable code callers can branch on. Help text for each is in
 * `STORAGE_ERROR_HELP`.
 */
export type StorageErrorCode = 'LEASE_LOST' | 'NOT_FOUND' | 'CONFLICT' | 'NOT_MIGRATED' | 'BAD_CURSOR' | 'BUSY' | 'UNAVAILABLE' | 'FULL' | 'IO' | 'CORRUPT';

/** What each storage error code means and what to do about it. */
export const STORAGE_ERROR_HELP: Record<StorageErrorCode, string> = {
  LEASE_LOST:
    'Another process took over the lease (of a contact\'s events or of a run) before this commit; nothing was written. The other process carries on; this one should drop its work.',
  NOT_FOUND: 'The record the operation needs does not exist in this workspace.',
  CONFLICT: 'A unique key is already taken (an id, a channel identity, an API key). Use another, or read the existing record.',
  NOT_MIGRATED: 'The store was used before migrate() created its tables. Call migrate() at start-up.',
  BAD_CURSOR: 'The pagination cursor was not handed out by this store. Start again from the first page.',
  BUSY: 'The database stayed locked by another connection for longer than the busy timeout; nothing was written. Retry shortly. A lock held long is usually a transaction left open in another tool; a busy timeout raised (SQLITE_BUSY_TIMEOUT_MS) holds the server still while it waits.',
  UNAVAILABLE: 'The database could not be reached. Check the connection string and that the server (a replica set, for MongoDB) is up.',
  FULL: 'The disk holding the database is full; the operation wrote nothing. Free space (or lower the RETENTION_* windows): the server carries on by itself once it can write again.',
  IO: 'The disk refused a read or a write of the database (an I/O error): it may be over a quota or a file-size limit, or failing; the operation wrote nothing. Free space or raise the limit: the server carries on by itself once it can write again. If it lasts, check the disk\'s health.',
  CORRUPT: 'The database file is not a database of this kind, or it is damaged. Restore it from a backup, or point the server at another file.',
};

/**
 * The error both store adapters throw: the engine's `StorageError` (so a `ConvoflowError`, with
 * `code` and `help`), narrowed to the storage codes.
 *
 * @example
 * ```ts
 * try {
 *   await store.commitStep(commit);
 * } catch (err) {
 *   if (isStorageError(err, 'LEASE_LOST')) return; // another process owns it now
 *   throw err;
 * }
 * ```
 */
export class StorageError extends ConvoflowStorageError {
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { code, help: STORAGE_ERROR_HELP[code], ...(options.cause === undefined ? {} : { cause: options.cause }) });
  }
}

/**
 * Codes of a store that cannot write, or be reached, now but may later. An I/O error is among
 * them: a disk over its quota says so with one, and giving up the work would lose it for good.
 */
const TRANSIENT_CODES: ReadonlySet<string> = new Set<StorageErrorCode>(['BUSY', 'UNAVAILABLE', 'FULL', 'IO']);

/**
 * True when `err` says the store cannot do the work now but may later (locked, unreachable, disk
 * full): work that met it is to be retried, never recorded as failed. Matched by name and code, as
 * the HTTP error mapping does, so a second copy of this module still agrees.
 */
export function isTransientStorageError(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; code?: unknown };
  return e.name === 'StorageError' && typeof e.code === 'string' && TRANSIENT_CODES.has(e.code);
}

/** True when `err` is a StorageError of the store, with this code when one is given. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/**
 * How long to wait before trying again work that met a transient store error, for the `failures`-th
 * failure in a row (from 1): 100 ms, doubling up to 5 s. Not a provider's backoff of minutes: the
 * store tends to come back within seconds (a lock released, a failover done, space freed), and
 * every second of waiting past that delays conversations.
 */
export function storeRetryDelayMs(failures: number): number {
  return Math.min(5_000, 100 * 2 ** Math.max(0, Math.min(failures - 1, 16)));
}
