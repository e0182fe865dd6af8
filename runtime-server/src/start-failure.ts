/**
 * The line `server.ts` prints when start-up fails. What an operator can fix (a store that cannot be
 * opened, a port that is taken) is said in one sentence with what to change; anything else is a
 * crash and keeps its stack trace.
 *
 * @param mongo whether MONGODB_URI is set (the hints about DATA_DIR are for SQLite only)
 */
export function describeStartFailure(err: unknown, mongo: boolean): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: unknown; code?: unknown; syscall?: unknown; address?: unknown; port?: unknown };
  if (e.name === 'StorageError') {
    const message = (err as Error).message;
    if (mongo) return message;
    switch (e.code) {
      case 'CORRUPT':
        return `${message}: restore it from a backup, or set DATA_DIR to another directory`;
      case 'FULL':
      case 'IO':
        return `${message}: free space on that disk, or set DATA_DIR to a directory on another one`;
      default:
        return `${message} (DATA_DIR must name a directory this process can write)`;
    }
  }
  if (e.syscall === 'listen') {
    const where = `${String(e.address)}:${String(e.port)}`;
    switch (e.code) {
      case 'EADDRINUSE':
        return `${where} is already in use: stop what listens there, or set PORT to another port`;
      case 'EACCES':
        return `this process may not listen on ${where}: set PORT above 1023`;
      case 'EADDRNOTAVAIL':
        return `${String(e.address)} is not an address of this machine: set HOST to one (127.0.0.1, or 0.0.0.0 for every interface)`;
    }
  }
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
