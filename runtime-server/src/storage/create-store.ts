import type { MongoStore } from './mongoose/mongo-store.js';
import { createSqliteStore, type SqliteStore } from './sqlite/sqlite-store.js';

/** Where the store lives. Everything is optional: see `createStore` for the defaults. */
export interface StoreConfig {
  /** MongoDB connection string (a replica set). Wins over everything else when given. */
  mongodbUri?: string;
  /** MongoDB database name, when the URI does not name one. */
  mongodbDbName?: string;
  /** SQLite file; its directory is created. `:memory:` for throwaway stores. */
  sqliteFile?: string;
  /** SQLite durability level; `FULL` by default (see `SqliteStoreOptions.synchronous`). */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a SQLite write waits for another process's lock. */
  busyTimeoutMs?: number;
  /** Told what the operator should know of that the SQLite store does in the background. */
  warn?: (message: string) => void;
}

/** The SQLite file used when neither a file nor MongoDB is configured. */
export const DEFAULT_SQLITE_FILE = './data/convoflow.db';

/**
 * Picks and opens the store: MongoDB when `config.mongodbUri` is given, else SQLite at
 * `config.sqliteFile` when given, else MongoDB when the `MONGODB_URI` environment variable is set,
 * else SQLite at `./data/convoflow.db`. An explicit SQLite file wins over the environment, so tests
 * that ask for a temp file get one even where `MONGODB_URI` is set. Call `migrate()` before use.
 * The MongoDB adapter (mongoose and its driver, ~37 MB of RSS) is loaded only when it is picked.
 *
 * @example
 * ```ts
 * const store = await createStore({ sqliteFile: './data/convoflow.db' });
 * await store.migrate();
 * if (store.kind === 'sqlite') shareWithScheduler(store.db);
 * ```
 */
export async function createStore(config: StoreConfig = {}, env: NodeJS.ProcessEnv = process.env): Promise<SqliteStore | MongoStore> {
  const uri = config.mongodbUri ?? (config.sqliteFile === undefined ? env.MONGODB_URI : undefined);
  if (uri) {
    const { createMongoStore } = await import('./mongoose/mongo-store.js');
    return createMongoStore({ uri, ...(config.mongodbDbName ? { dbName: config.mongodbDbName } : {}) });
  }
  return createSqliteStore({
    file: config.sqliteFile ?? DEFAULT_SQLITE_FILE,
    ...(config.synchronous ? { synchronous: config.synchronous } : {}),
    ...(config.busyTimeoutMs !== undefined ? { busyTimeoutMs: config.busyTimeoutMs } : {}),
    ...(config.warn ? { warn: config.warn } : {}),
  });
}
