import { StorageError } from '../errors.js';

/**
 * Maps an error better-sqlite3 threw to the StorageError its code means (BUSY, CONFLICT, CORRUPT,
 * FULL, IO, UNAVAILABLE, NOT_MIGRATED); lets StorageErrors, and errors it has no code for, through unchanged.
 */
export function toStorageError(err: unknown): unknown {
  if (err instanceof StorageError) return err;
  // Matched by code, not instanceof: a test runner may load better-sqlite3 twice (two SqliteError classes).
  const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StorageError('BUSY', `Database is locked by another connection: ${String(message)}`, { cause: err });
    }
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new StorageError('CONFLICT', String(message), { cause: err });
    }
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      return new StorageError('CORRUPT', `The SQLite database is not an SQLite database, or is damaged: ${String(message)}`, { cause: err });
    }
    if (code === 'SQLITE_FULL') {
      return new StorageError('FULL', `The disk holding the SQLite database is full: ${String(message)}`, { cause: err });
    }
    if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY')) {
      // A directory or file system that does not let this process write (it is read-only, or the
      // WAL beside the file cannot be created): an operator must change it, so it is retried.
      return new StorageError('UNAVAILABLE', `The SQLite database cannot be opened for writing (${String(message)})`, { cause: err });
    }
    if (code.startsWith('SQLITE_IOERR')) {
      return new StorageError('IO', `The disk holding the SQLite database refused a read or write (${String(message)}): it may be over a quota or a file-size limit, or failing`, { cause: err });
    }
    if (/no such table/.test(String(message))) {
      return new StorageError('NOT_MIGRATED', 'The SQLite store was used before migrate()', { cause: err });
    }
  }
  return err;
}
