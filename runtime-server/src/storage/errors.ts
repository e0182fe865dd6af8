/**
 * Why a storage operation failed, as a stable code callers can branch on.
 *
 * - `LEASE_LOST`: a commit named a lease its owner no longer holds; nothing was written.
 * - `NOT_FOUND`: the record the operation needs does not exist (in that workspace).
 * - `CONFLICT`: a unique key is already taken (an id, a channel identity, an API key hash).
 * - `NOT_MIGRATED`: the store was used before `migrate()` created its tables.
 * - `BAD_CURSOR`: a pagination cursor that this store did not hand out.
 * - `BUSY`: the database stayed locked by another process for longer than the busy timeout.
 * - `UNAVAILABLE`: the database could not be reached or refused the operation.
 */
export type StorageErrorCode = 'LEASE_LOST' | 'NOT_FOUND' | 'CONFLICT' | 'NOT_MIGRATED' | 'BAD_CURSOR' | 'BUSY' | 'UNAVAILABLE';

/**
 * The one error type both store adapters throw. `code` is stable; `message` is for people.
 *
 * @example
 * ```ts
 * try {
 *   await store.commitStep(commit);
 * } catch (err) {
 *   if (err instanceof StorageError && err.code === 'LEASE_LOST') return; // another process owns it now
 *   throw err;
 * }
 * ```
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';

  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a StorageError with this code. */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
