import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { EFFECT_TYPES, type FlowDefinition, type JsonObject } from '@convoflow/engine';
import { StorageError } from '../errors.js';
import {
  DEFAULT_WORKSPACE_SETTINGS,
  decodeCursor,
  definedOnly,
  encodeCursor,
  mergeFields,
  pageSize,
  zeroStatusCounts,
  type StoredOutboxEntry,
} from '../store-helpers.js';
import type {
  ContactChannelIdentity,
  ConversationMessage,
  ContactRecord,
  JournalEntry,
  Page,
  PruneReport,
  RetentionPolicy,
  RunFilter,
  RunRecord,
  RunSummary,
  StepCommit,
  StoragePort,
  StoredRunStatus,
  WorkspaceShares,
} from '../storage-port.js';
import { lastStepAt } from '../storage-port.js';
import { fullWorkspaces, pickByTurns, roomOf, type ClaimCandidate } from '../claim-turns.js';
import { applyMigrations } from './migrations.js';
import { toStorageError } from './sqlite-errors.js';
import { LockWait, noteWriteError } from './lock-wait.js';
import { pruneSqlite } from './retention.js';
import {
  toApiKey,
  toContact,
  toFlow,
  toFlowSummary,
  toFlowVersion,
  toFlowVersionSummary,
  toJournal,
  toMessage,
  toOutbox,
  toRun,
  toRunSummary,
  toStepLog,
  toWorkspace,
  type JournalRow,
  type RunRow,
} from './rows.js';
import { prepareStatements, runPageQuery, type Statements } from './statements.js';
import { GroupCommit } from './group-commit.js';
import { MultiRowInsert } from './multi-row-insert.js';
import { WalSync } from './wal-sync.js';
import { Checkpointer } from './checkpointer.js';
import { ReadSnapshot, readSnapshotOf } from '../../support/sqlite-read-snapshot.js';

type NewJournalEntry = Omit<JournalEntry, 'seq' | 'status' | 'attempts'>;

/** The arguments of one `outbox.complete`. */
interface Completion {
  runId: string;
  seq: number;
  result: JsonObject;
  at: number;
  outcome?: NewJournalEntry;
  message?: Omit<ConversationMessage, 'seq'>;
}

/** Options of `createSqliteStore`. */
export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created), or `:memory:` for tests. */
  file: string;
  /**
   * `FULL` (the default): a journal append, the commit that lets the runtime acknowledge an inbound
   * event, resolves only once the WAL is synced to disk, so an acknowledged event survives power
   * loss; the sync runs off the event loop and is shared by concurrent appends (see WalSync).
   * Because the WAL is written in order, that sync also makes every earlier commit durable, and an
   * outbox claim waits for one too, so no effect leaves the machine before the event behind it is
   * durable. The runtime's own commits (steps, outbox, leases) are not synced: they survive a killed
   * process, and after a power loss the last of them are redone from the journal, which is safe
   * because steps are deterministic and effects carry idempotency keys. `NORMAL` syncs nothing: an
   * acknowledged event survives a killed process but not a power loss.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a write waits for another connection's write lock before failing `BUSY`, once
   * migrated. better-sqlite3 waits synchronously, holding the event loop, so the wait is bounded:
   * another Convoflow process holds the lock for milliseconds (longer only when paused inside a
   * commit, by a long GC or a starved CPU), and a lock held for good (an operator's open
   * transaction) must not freeze the server (see LockWait); `BUSY` is answered 503 and retried.
   * Default 500. Opening the file and `migrate()` wait up to 30 s (another process may be
   * migrating it).
   */
  busyTimeoutMs?: number;
  /**
   * Copy WAL frames back into the database from a worker thread (see Checkpointer) rather than in
   * the commit that crosses SQLite's threshold, on the event loop. Default true for a file; a
   * `:memory:` database has no WAL.
   */
  backgroundCheckpoints?: boolean;
  /** Told what the operator should know of that happens in the background (checkpoints stalled by a full disk). Default: a process warning. */
  warn?: (message: string) => void;
}

/** What `vacuum()` did. */
export interface VacuumReport {
  /** Free pages returned to the file system. */
  freedPages: number;
  /** File size (database + WAL) afterwards, in bytes; 0 for `:memory:`. */
  sizeBytes: number;
}

/** The SQLite store: the storage port plus what only SQLite has. */
export interface SqliteStore extends StoragePort {
  readonly kind: 'sqlite';
  /** The open connection, shared with the scheduler's SQLite backend (same file, same process). */
  readonly db: Database.Database;
  /** Absolute path of the file, or `:memory:`. */
  readonly file: string;
  /**
   * Returns free pages to the file system (incremental vacuum) and truncates the WAL, so that the
   * file does not grow without bound when `prune()` runs regularly. Cheap when there is little to
   * free; safe while other connections work (it waits for the write lock like any write).
   */
  vacuum(options?: { maxPages?: number }): Promise<VacuumReport>;
  /** WAL syncs done for acknowledging commits so far (0 when they need none: `NORMAL`, `:memory:`). */
  walSyncs(): number;
  outbox: StoragePort['outbox'] & {
    claim(...args: Parameters<StoragePort['outbox']['claim']>): Promise<StoredOutboxEntry[]>;
    get(runId: string, seq: number): Promise<StoredOutboxEntry | undefined>;
  };
}

/** The busy timeout once migrated, ms (see SqliteStoreOptions.busyTimeoutMs). */
export const DEFAULT_BUSY_TIMEOUT_MS = 500;
/** The busy timeout while opening and migrating, ms: another process may be migrating the file. */
const START_BUSY_TIMEOUT_MS = 30_000;

/** Pending rows read in arrival order per head wanted, before falling back to a per-key lookup. */
const HEAD_SCAN_FACTOR = 8;

/** The first row of each ordering key among `rows` (in arrival order), up to `limit` of them. */
function headsOf(rows: ReadonlyArray<{ seq: number; ordering_key: string }>, limit: number): number[] {
  const heads: number[] = [];
  const keys = new Set<string>();
  for (const row of rows) {
    if (keys.has(row.ordering_key)) continue;
    keys.add(row.ordering_key);
    heads.push(row.seq);
    if (heads.length === limit) break;
  }
  return heads;
}

/** Pages freed per incremental-vacuum statement (4 MB at the default page size). */
const VACUUM_CHUNK_PAGES = 1024;
/** How often, and how far apart, `vacuum()` tries to truncate a WAL another checkpoint holds. */
const TRUNCATE_ATTEMPTS = 100;
const TRUNCATE_RETRY_MS = 5;
/** WAL bytes kept after a checkpoint; beyond this the WAL file is truncated. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Opens (creating if needed) a SQLite store on one file: WAL, foreign keys on, a busy timeout so
 * several processes can share the file, and incremental auto-vacuum. Call `migrate()` before use.
 *
 * Reads and writes are synchronous under an async facade (better-sqlite3): each call runs to the end
 * without yielding, which is what makes the multi-statement transactions cheap.
 *
 * @example
 * ```ts
 * const store = createSqliteStore({ file: './data/convoflow.db' });
 * await store.migrate();
 * const ws = await store.workspaces.create({ name: 'Acme' });
 * ```
 */
/** Opens (creating its directory first) the database file, or says which file and why not. */
function openDatabase(file: string, memory: boolean): Database.Database {
  try {
    if (!memory) mkdirSync(dirname(file), { recursive: true });
    return new Database(file);
  } catch (err) {
    const reason = (err as { code?: string }).code === 'EEXIST' ? `${dirname(file)} exists and is not a directory` : (err as Error).message;
    throw new StorageError('UNAVAILABLE', `The SQLite database ${file} cannot be opened: ${reason}`, { cause: err });
  }
}

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const memory = options.file === ':memory:';
  const file = memory ? options.file : resolve(options.file);
  const db = openDatabase(file, memory);
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS));
  db.pragma(`busy_timeout = ${Math.max(busyTimeoutMs, START_BUSY_TIMEOUT_MS)}`);
  // The first read and write of the file: a file that is not a database (or a damaged one), or one
  // this process cannot write (a read-only file system), says so here, naming the file.
  try {
    // auto_vacuum can only be chosen before the first table exists; older files are converted in migrate().
    if (isEmpty(db)) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
  } catch (err) {
    db.close();
    const mapped = toStorageError(err);
    const reason = (err as Error).message;
    if (mapped instanceof StorageError && mapped.code === 'CORRUPT') {
      throw new StorageError('CORRUPT', `The SQLite database ${file} is not an SQLite database, or is damaged (${reason})`, { cause: err });
    }
    if (mapped instanceof StorageError && mapped.code === 'UNAVAILABLE') {
      throw new StorageError('UNAVAILABLE', `The SQLite database ${file} cannot be opened for writing (${reason})`, { cause: err });
    }
    throw mapped;
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  const durable = !memory && options.synchronous !== 'NORMAL';
  const checkpointer = !memory && options.backgroundCheckpoints !== false ? new Checkpointer(db, file, { ...(options.warn ? { warn: options.warn } : {}) }) : undefined;
  return new SqliteStoreImpl(db, file, durable ? `${file}-wal` : undefined, checkpointer, new LockWait(db, busyTimeoutMs));
}

function isEmpty(db: Database.Database): boolean {
  const row = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM sqlite_master').get();
  return (row?.n ?? 0) === 0;
}

/** A message as the values of its INSERT (see `messageRows`). */
const messageRow = (m: Omit<ConversationMessage, 'seq'>): unknown[] => [
  m.workspaceId, m.contactId, m.channel, m.direction, json(m.message), m.runId ?? null, m.nodeId ?? null, m.idempotencyKey, m.at,
];

/** Errors a step commit threw before its first write: nothing of it needs rolling back. */
const failedBeforeWriting = new WeakSet<object>();
const beforeWriting = (err: StorageError): StorageError => {
  failedBeforeWriting.add(err);
  return err;
};
/** Thrown inside a group transaction to roll it back and run it again with savepoints. */
const WROTE_THEN_FAILED = new Error('a step commit failed after writing');

/** Maps SQLite's errors to StorageError codes; lets StorageErrors through. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toStorageError(err);
  }
}

const json = (value: unknown): string => JSON.stringify(value);
const jsonOrNull = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

class SqliteStoreImpl implements SqliteStore {
  readonly kind = 'sqlite' as const;
  #q: Statements | undefined;
  readonly #runLists = new Map<string, Database.Statement<unknown[], Omit<RunRow, 'snapshot'>>>();
  readonly #appends: GroupCommit<NewJournalEntry, { inserted: boolean; entry: JournalEntry }>;
  readonly #completions: GroupCommit<Completion, ConversationMessage | undefined>;

  /** Syncs the WAL for commits that acknowledge something; undefined when they need not be durable. */
  private readonly walSync: WalSync | undefined;
  /** Every message up to this seq is on disk (whichever process wrote it: the WAL is shared). */
  #durableMessageSeq = 0;
  /** Every message up to this seq is covered by the sync running now (when one is). */
  #syncingMessageSeq = 0;
  /** The read transaction hot reads share within a stretch of microtasks; every other call ends it. */
  readonly #snapshot: ReadSnapshot;

  constructor(
    readonly db: Database.Database,
    readonly file: string,
    /** The WAL file to sync; undefined when commits need not be durable. */
    walFile: string | undefined,
    private readonly checkpointer: Checkpointer | undefined,
    /** How writes wait for another connection's lock once migrated (see SqliteStoreOptions.busyTimeoutMs). */
    private readonly lockWait: LockWait,
  ) {
    this.#snapshot = readSnapshotOf(db);
    this.walSync =
      walFile === undefined
        ? undefined
        : new WalSync(walFile, () => {
            // Read as the sync starts: every message up to it is in the WAL the sync covers.
            const seq = this.q.maxMessageSeq.get()?.seq ?? 0;
            this.#syncingMessageSeq = seq;
            return () => {
              this.#durableMessageSeq = Math.max(this.#durableMessageSeq, seq);
            };
          });
    // Nobody hears of an append before it is on disk: one sync for the whole group.
    this.#appends = new GroupCommit(db, (entry) => this.appendJournal(entry), this.#mapWriteError, () => this.durable());
    this.#completions = new GroupCommit(db, (c) => this.completeOne(c), this.#mapWriteError);
  }

  /**
   * Resolves once every commit made so far is on disk: a no-op unless acknowledging commits must be
   * durable (`synchronous = FULL`) and the store is a file. See WalSync for why not SQLite's FULL.
   */
  private durable(): Promise<void> {
    return this.walSync ? this.walSync.sync() : Promise.resolve();
  }

  walSyncs(): number {
    return this.walSync?.completed ?? 0;
  }

  /** Every call but the hot reads: ends the shared read transaction, then maps SQLite's errors. */
  #guard<T>(fn: () => T): T {
    this.#snapshot.end();
    try {
      return guard(fn);
    } catch (err) {
      noteWriteError(this.db, err);
      throw err;
    }
  }

  readonly #mapWriteError = (err: unknown): unknown => {
    const mapped = toStorageError(err);
    noteWriteError(this.db, mapped);
    return mapped;
  };

  /**
   * The reads a journal round makes for every entry, one after another, and the transcript reads
   * of the long polls its commit wakes: from the second of a stretch of microtasks on, they share
   * a read transaction (see ReadSnapshot).
   */
  #read<T>(fn: () => T): T {
    return guard(() => this.#snapshot.read(fn));
  }

  /** Statements are prepared on first use, once the tables exist. */
  private get q(): Statements {
    return (this.#q ??= prepareStatements(this.db));
  }

  async migrate(): Promise<void> {
    this.#guard(() => {
      if (this.db.pragma('auto_vacuum', { simple: true }) !== 2) {
        // A file created by another opener (or an older version) without incremental auto-vacuum:
        // VACUUM once to switch it; the setting sticks in the file afterwards.
        this.db.pragma('auto_vacuum = INCREMENTAL');
        this.db.exec('VACUUM');
      }
      applyMigrations(this.db);
      this.#q = undefined;
      this.#runLists.clear();
      this.lockWait.arm();
    });
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    await this.walSync?.close();
    this.#snapshot.end();
    if (this.db.open) this.db.close();
  }

  async vacuum(options: { maxPages?: number } = {}): Promise<VacuumReport> {
    const limit = options.maxPages === undefined ? Infinity : Math.max(0, Math.floor(options.maxPages));
    const freelist = (): number => Number(this.db.pragma('freelist_count', { simple: true }));
    let freed = 0;
    // In chunks, yielding between them: each chunk holds the write lock only briefly.
    while (freed < limit) {
      const before = this.#guard(freelist);
      if (before === 0) break;
      this.#guard(() => this.db.exec(`PRAGMA incremental_vacuum(${Math.min(VACUUM_CHUNK_PAGES, limit - freed)})`));
      const done = before - this.#guard(freelist);
      if (done <= 0) break;
      freed += done;
      await nextTurn();
    }
    if (this.file !== ':memory:') await this.truncateWal();
    return this.#guard(() => {
      const pageSizeBytes = Number(this.db.pragma('page_size', { simple: true }));
      const pageCount = Number(this.db.pragma('page_count', { simple: true }));
      return { freedPages: freed, sizeBytes: this.file === ':memory:' ? 0 : pageCount * pageSizeBytes };
    });
  }

  /**
   * Checkpoints the whole WAL and truncates it. Another connection's checkpoint (the background
   * one, say) makes this one answer busy at once, without waiting: try again for a while.
   */
  private async truncateWal(): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const [row] = this.#guard(() => this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>);
      if (!row?.busy || attempt === TRUNCATE_ATTEMPTS) return;
      await sleep(TRUNCATE_RETRY_MS);
    }
  }

  workspaces: SqliteStore['workspaces'] = {
    create: async ({ id, name, settings }) =>
      this.#guard(() => {
        const workspace = {
          id: id ?? randomUUID(),
          name,
          createdAt: Date.now(),
          settings: { ...DEFAULT_WORKSPACE_SETTINGS, ...definedOnly(settings ?? {}) },
        };
        this.q.insertWorkspace.run(workspace.id, workspace.name, workspace.createdAt, json(workspace.settings));
        return workspace;
      }),
    get: async (id) =>
      this.#guard(() => {
        const row = this.q.getWorkspace.get(id);
        return row && toWorkspace(row);
      }),
    list: async () => this.#guard(() => this.q.listWorkspaces.all().map(toWorkspace)),
    updateSettings: async (id, settings) =>
      this.#guard(() =>
        this.db
          .transaction(() => {
            const row = this.q.getWorkspace.get(id);
            if (!row) throw new StorageError('NOT_FOUND', `Workspace ${id} not found`);
            const workspace = toWorkspace(row);
            workspace.settings = { ...workspace.settings, ...definedOnly(settings) };
            this.q.setWorkspaceSettings.run(json(workspace.settings), id);
            return workspace;
          })
          .immediate(),
      ),
  };

  apiKeys: SqliteStore['apiKeys'] = {
    insert: async (r) =>
      this.#guard(() => {
        this.q.insertApiKey.run(r.id, r.workspaceId, r.name, r.role, r.keyHash, r.prefix, r.createdAt, r.revokedAt ?? null);
      }),
    findByHash: async (keyHash) =>
      this.#guard(() => {
        const row = this.q.apiKeyByHash.get(keyHash);
        return row && toApiKey(row);
      }),
    list: async (workspaceId) => this.#guard(() => this.q.listApiKeys.all(workspaceId).map(toApiKey)),
    revoke: async (workspaceId, id, at) =>
      this.#guard(() => {
        if (this.q.revokeApiKey.run(at, workspaceId, id, workspaceId).changes > 0) return 'revoked';
        return this.q.activeApiKey.get(workspaceId, id) ? 'last_admin' : 'not_found';
      }),
  };

  /**
   * Flows. A flow's id is its draft's `id` (generated when empty). Deleting a flow hides it from
   * get/list/listActive and stops new runs, but keeps its versions: runs are pinned to them, so
   * `getVersion`/`listVersions` still answer for a deleted flow.
   */
  flows: SqliteStore['flows'] = {
    create: async ({ workspaceId, draft, at }) =>
      this.#guard(() => {
        const id = draft.id || randomUUID();
        const stored: FlowDefinition = { ...draft, id };
        this.q.insertFlow.run(workspaceId, id, stored.name, json(stored), at, at);
        return { id, workspaceId, name: stored.name, draft: stored, revision: 1, latestVersion: 0, createdAt: at, updatedAt: at };
      }),
    get: async (workspaceId, id) =>
      this.#guard(() => {
        const row = this.q.getFlow.get(workspaceId, id);
        return row && toFlow(row);
      }),
    list: async (workspaceId) => this.#guard(() => this.q.listFlows.all(workspaceId).map(toFlowSummary)),
    updateDraft: async (workspaceId, id, draft, expectedRevision, at) =>
      this.#guard(() => {
        const stored: FlowDefinition = { ...draft, id };
        const row = this.q.updateDraft.get(json(stored), stored.name, at, workspaceId, id, expectedRevision);
        return row && toFlow(row);
      }),
    delete: async (workspaceId, id) => this.#guard(() => this.q.deleteFlow.run(Date.now(), Date.now(), workspaceId, id).changes > 0),
    publish: async (workspaceId, id, publishedBy, at) =>
      this.#guard(() =>
        this.db
          .transaction(() => {
            const row = this.q.getFlow.get(workspaceId, id);
            if (!row) throw new StorageError('NOT_FOUND', `Flow ${id} not found`);
            const version = row.latest_version + 1;
            this.q.insertVersion.run(workspaceId, id, version, row.draft, at, publishedBy);
            this.q.setPublished.run(version, version, at, workspaceId, id);
            return toFlowVersion({
              workspace_id: workspaceId,
              flow_id: id,
              version,
              definition: row.draft,
              published_at: at,
              published_by: publishedBy,
            });
          })
          .immediate(),
      ),
    listVersions: async (workspaceId, id) => this.#guard(() => this.q.listVersions.all(workspaceId, id).map(toFlowVersionSummary)),
    getVersion: async (workspaceId, id, version) =>
      this.#guard(() => {
        const row = this.q.getVersion.get(workspaceId, id, version);
        return row && toFlowVersion(row);
      }),
    activate: async (workspaceId, id, version, at) =>
      this.#guard(() => {
        const row = this.q.activate.get(version, at, workspaceId, id, version);
        return row && toFlow(row);
      }),
    listActive: async (workspaceId) =>
      this.#guard(() =>
        (workspaceId === undefined ? this.q.listActiveAll.all() : this.q.listActiveIn.all(workspaceId)).map(toFlowVersion),
      ),
    listActiveVersionIds: async (workspaceId) =>
      this.#guard(() => this.q.listActiveIdsIn.all(workspaceId).map((row) => ({ flowId: row.flow_id, version: row.version }))),
  };

  /**
   * Contacts. `upsertByIdentity` uses `fields` only when it creates the contact; an existing
   * contact is returned as it is (change it with `update`). An announcement is written in the
   * transaction of the change, and, like a journal append, acknowledged only once it is durable.
   */
  contacts: SqliteStore['contacts'] = {
    upsertByIdentity: async (workspaceId, identity, fields, at, announce) => {
      const result = this.#guard(() => {
        // Most calls find the contact: a plain read then, no write transaction (and no write lock).
        const found = this.q.contactByIdentity.get(workspaceId, identity.channel, identity.externalId);
        if (found) return { contact: toContact(found), created: false };
        return this.db
          .transaction(() => {
            const row = this.q.contactByIdentity.get(workspaceId, identity.channel, identity.externalId);
            if (row) return { contact: toContact(row), created: false };
            const contact = this.insertContact(workspaceId, fields, [identity], at);
            if (announce) this.appendJournal(announce(contact, Object.keys(fields)));
            return { contact, created: true };
          })
          .immediate();
      });
      if (result.created && announce) await this.durable();
      return result;
    },
    findByIdentity: async (workspaceId, identity) =>
      this.#guard(() => {
        const row = this.q.contactByIdentity.get(workspaceId, identity.channel, identity.externalId);
        return row && toContact(row);
      }),
    create: async (workspaceId, fields, identities, at, announce) => {
      const contact = this.#guard(() =>
        this.db
          .transaction(() => {
            const inserted = this.insertContact(workspaceId, fields, identities, at);
            if (announce) this.appendJournal(announce(inserted, Object.keys(fields)));
            return inserted;
          })
          .immediate(),
      );
      if (announce) await this.durable();
      return contact;
    },
    get: async (workspaceId, id) =>
      this.#read(() => {
        const row = this.q.getContact.get(workspaceId, id);
        return row && toContact(row);
      }),
    list: async (workspaceId, options = {}) =>
      this.#guard(() => {
        const limit = pageSize(options.limit);
        const rows = options.cursor
          ? (() => {
              const after = decodeCursor(options.cursor);
              return this.q.contactsAfter.all(workspaceId, after.createdAt, after.id, limit + 1);
            })()
          : this.q.contactsFirstPage.all(workspaceId, limit + 1);
        return page(rows.map(toContact), limit);
      }),
    update: async (workspaceId, id, fields, at, announce) => {
      const result = this.#guard(() =>
        this.db
          .transaction(() => {
            const row = this.q.getContact.get(workspaceId, id);
            if (!row) return undefined;
            const contact = toContact(row);
            const merged = mergeFields(contact.fields, fields);
            if (merged.changed.length > 0) {
              this.q.setContactFields.run(json(merged.fields), at, workspaceId, id);
              contact.fields = merged.fields;
              contact.updatedAt = at;
              if (announce) this.appendJournal(announce(contact, merged.changed));
            }
            return { contact, changed: merged.changed };
          })
          .immediate(),
      );
      if (result && result.changed.length > 0 && announce) await this.durable();
      return result;
    },
  };

  private insertContact(
    workspaceId: string,
    fields: JsonObject,
    identities: ContactChannelIdentity[],
    at: number,
  ): ContactRecord {
    const contact: ContactRecord = { id: randomUUID(), workspaceId, fields, identities, createdAt: at, updatedAt: at };
    this.q.insertContact.run(contact.id, workspaceId, json(fields), json(identities), at, at);
    for (const identity of identities) {
      this.q.insertIdentity.run(workspaceId, identity.channel, identity.externalId, contact.id);
    }
    return contact;
  }

  /** Runs. Lists are newest first, paginated by (createdAt, id). */
  runs: SqliteStore['runs'] = {
    get: async (workspaceId, id) =>
      this.#read(() => {
        const row = this.q.getRun.get(workspaceId, id);
        return row && toRun(row);
      }),
    list: async (workspaceId, filter) => this.#guard(() => this.listRuns(workspaceId, filter)),
    listActiveForContact: async (workspaceId, contactId) =>
      this.#read(() => this.q.activeRunsForContact.all(workspaceId, contactId).map(toRun)),
    stepLog: async (runId, options) =>
      this.#guard(() =>
        (options ? this.q.stepLogPage.all(runId, options.afterStepNo ?? -1, options.limit ?? -1) : this.q.stepLog.all(runId)).map(toStepLog),
      ),
    countByStatus: async (workspaceId) =>
      this.#guard(() => {
        const counts = zeroStatusCounts();
        const rows = workspaceId === undefined ? this.q.countByStatusAll.all() : this.q.countByStatusIn.all(workspaceId);
        for (const { status, n } of rows) counts[status as StoredRunStatus] = n;
        return counts;
      }),
  };

  private listRuns(workspaceId: string, filter: RunFilter): Page<RunSummary> {
    const limit = pageSize(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    const { sql, params } = runPageQuery(workspaceId, filter, after, limit + 1);
    let statement = this.#runLists.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], Omit<RunRow, 'snapshot'>>(sql);
      this.#runLists.set(sql, statement);
    }
    return page(statement.all(...params).map(toRunSummary), limit);
  }

  /**
   * One IMMEDIATE transaction. The lease row `leaseKey` must exist and be owned by `leaseOwner`
   * (expiry is not checked: an owner whose lease lapsed but that nobody took over may still commit);
   * otherwise it throws StorageError `LEASE_LOST` and writes nothing. Effects already in the outbox
   * (same run and seq) are left as they are. Contact changes of a contact that does not exist (in the
   * run's workspace) are dropped: a missing contact must not wedge the run.
   */
  async commitStep(commit: StepCommit): Promise<void> {
    this.#guard(() => this.commitTx.immediate(commit));
  }

  /**
   * The oldest pending entry of up to `limit` unleased ordering keys, oldest first; when several
   * workspaces have pending entries they take turns (`headsByTurns`). Each workspace is read as
   * `headsIn` says, so a tick costs the same whatever the backlog.
   */
  private nextPending(limit: number, now: number): JournalRow[] {
    if (limit === 0) return [];
    const workspaces = this.pendingWorkspaces(limit);
    if (workspaces.length === 0) return [];
    const heads = workspaces.length === 1 ? this.headsIn(workspaces[0] as string, limit, now) : this.headsByTurns(workspaces, limit, now);
    return heads.length === 0 ? [] : this.q.journalBySeqs.all(JSON.stringify(heads));
  }

  /** The workspace the last tick with several of them took its turns up to. */
  #lastTurn = '';

  /**
   * Up to `limit` workspaces with pending entries: those after the last tick's, then from the
   * first, so with more than `limit` of them every one has its turn within a few ticks.
   */
  private pendingWorkspaces(limit: number): string[] {
    const after = this.q.pendingWorkspacesAfter.all(this.#lastTurn, limit).map((w) => w.id);
    if (after.length === limit || this.#lastTurn === '') return after;
    const from = this.q.pendingWorkspacesAfter.all('', limit - after.length).map((w) => w.id);
    return [...after, ...from.filter((id) => !after.includes(id))];
  }

  /**
   * Heads when several workspaces have pending entries: each workspace's oldest, then each one's
   * second oldest, and so on (oldest first within a turn), so a backlog in one workspace (a bulk
   * start of runs) never holds up the replies of another. Each workspace is read as the journal
   * is when it is alone, for its share of `limit`.
   */
  private headsByTurns(workspaces: readonly string[], limit: number, now: number): number[] {
    const share = Math.ceil(limit / workspaces.length);
    const byWorkspace = new Map(workspaces.map((workspace) => [workspace, this.headsIn(workspace, share, now)]));
    // A share some workspace did not need goes to those that had more.
    let taken = 0;
    for (const seqs of byWorkspace.values()) taken += seqs.length;
    if (taken < limit) {
      for (const [workspace, seqs] of byWorkspace) {
        if (seqs.length === share) byWorkspace.set(workspace, this.headsIn(workspace, share + limit - taken, now));
      }
    }
    this.#lastTurn = workspaces.at(-1) ?? '';
    return [...byWorkspace.values()]
      .flatMap((seqs) => seqs.map((seq, turn) => ({ seq, turn })))
      .sort((a, b) => a.turn - b.turn || a.seq - b.seq)
      .slice(0, limit)
      .map((t) => t.seq);
  }

  /**
   * The oldest pending entry of up to `limit` unleased keys of one workspace, oldest first. Read in
   * arrival order, where the first rows are the heads (a key's first row in that order is its
   * oldest). When a few keys with deep backlogs fill the whole scan, every key's head is looked up
   * instead (the cost grows with the backlog), so the other keys are not starved behind them.
   */
  private headsIn(workspace: string, limit: number, now: number): number[] {
    const scan = limit * HEAD_SCAN_FACTOR;
    const rows = this.q.pendingKeysOfWorkspace.all(workspace, now, scan);
    const heads = headsOf(rows, limit);
    if (heads.length < limit && rows.length === scan) return this.q.pendingHeadsOfWorkspace.all(workspace, now, limit).map((r) => r.seq);
    return heads;
  }

  /** Per effect type, the workspace the last claim with more of them than it could take stopped at. */
  readonly #outboxTurns = new Map<string, string>();

  /**
   * The rowids a claim leases, as `outbox.claim` says: up to `limit` workspaces with due effects
   * of each type are read (in rotation, leaving out those with no room), each for as many as it has
   * room for, so a claim costs the same whatever the backlog.
   */
  private claimableByTurns(limit: number, now: number, types: readonly string[], shares: WorkspaceShares | undefined): number[] {
    if (limit === 0) return [];
    const full = JSON.stringify(fullWorkspaces(shares));
    const candidates: Array<ClaimCandidate<number>> = [];
    for (const type of types) {
      const workspacesAfter = (after: string, count: number) =>
        this.q.workspacesWithDueEffects.all({ type, after, now, full, limit: count }).map((w) => w.id);
      const after = this.#outboxTurns.get(type) ?? '';
      let workspaces = workspacesAfter(after, limit);
      if (workspaces.length < limit && after !== '') {
        const first = workspacesAfter('', limit - workspaces.length);
        workspaces = [...workspaces, ...first.filter((w) => !workspaces.includes(w))];
      }
      // More may be waiting: the next claim starts after the last one read now.
      if (workspaces.length === limit) this.#outboxTurns.set(type, workspaces.at(-1) as string);
      for (const workspaceId of workspaces) {
        const rows = this.q.dueEffectsOfWorkspace.all(type, workspaceId, now, now, Math.min(limit, roomOf(shares, workspaceId)));
        rows.forEach((row, rank) => candidates.push({ id: row.rowid, workspaceId, availableAt: row.available_at, rank }));
      }
    }
    return pickByTurns(candidates, limit, shares);
  }

  /**
   * Group commit: commits several steps in ONE transaction (one WAL sync under `FULL`); a commit
   * that fails (say `LEASE_LOST`) is rolled back alone and the others still land. Returns, per
   * commit and in order, `undefined` when it was written or the error that stopped it.
   *
   * A commit that fails does so almost always before it writes anything (its lease is gone, its
   * run is not there), so the group first runs without a savepoint per commit (two statements
   * each); only a commit failing after it wrote sends the whole group round again with savepoints.
   */
  async commitSteps(commits: StepCommit[]): Promise<(Error | undefined)[]> {
    return this.#guard(() => {
      try {
        return this.groupTxUnguarded.immediate(commits);
      } catch (err) {
        if (err !== WROTE_THEN_FAILED) throw err;
        return this.groupTx.immediate(commits);
      }
    });
  }

  private get groupTxUnguarded() {
    return (this.#groupTxUnguarded ??= this.db.transaction((commits: StepCommit[]) =>
      commits.map((c) => {
        try {
          this.#commit(c);
          return undefined;
        } catch (err) {
          if (!this.db.inTransaction) throw err; // SQLite cancelled the whole group (say, a full disk)
          if (!failedBeforeWriting.has(err as object)) throw WROTE_THEN_FAILED; // rolls the group back
          return err as Error;
        }
      }),
    ));
  }
  #groupTxUnguarded: Database.Transaction<(commits: StepCommit[]) => (Error | undefined)[]> | undefined;

  private get groupTx() {
    return (this.#groupTx ??= this.db.transaction((commits: StepCommit[]) =>
      commits.map((c) => {
        try {
          this.commitTx(c); // nested: runs as a savepoint
          return undefined;
        } catch (err) {
          // A full disk, or I/O failing, can make SQLite cancel the whole transaction, not just the
          // statement: the commits after this one would then each run as a transaction of their own
          // and land while the group reports failure. Stop, and fail the group as one.
          if (!this.db.inTransaction) throw err;
          const mapped = toStorageError(err);
          return mapped instanceof Error ? mapped : new Error(String(mapped));
        }
      }),
    ));
  }
  #groupTx: Database.Transaction<(commits: StepCommit[]) => (Error | undefined)[]> | undefined;

  readonly #commit = (c: StepCommit): void => {
    const q = this.q;
    // Releasing is the check too: only the owner's row is deleted. Rolled back with the commit.
    const held = c.releaseLease
      ? q.releaseLease.run(c.leaseKey, c.leaseOwner).changes > 0
      : q.leaseOwner.get(c.leaseKey)?.owner === c.leaseOwner;
    if (!held) {
      throw beforeWriting(new StorageError('LEASE_LOST', `Lease ${c.leaseKey} is not held by ${c.leaseOwner}`));
    }
    const r = c.run;
    const snapshot = json(r.snapshot);
    if (c.isNew) {
      q.insertRun.run(
        r.id, r.workspaceId, r.flowId, r.flowVersion, r.contactId, r.triggerId, r.channel ?? null, r.status,
        jsonOrNull(r.waiting), snapshot, r.stepCount, jsonOrNull(r.error), r.failedNodeId ?? null, r.createdAt,
        r.updatedAt, r.endedAt ?? null,
      );
    } else {
      const updated = q.updateRun.run(
        r.channel ?? null, r.status, jsonOrNull(r.waiting), snapshot, r.stepCount, jsonOrNull(r.error),
        r.failedNodeId ?? null, r.updatedAt, r.endedAt ?? null, r.id, r.workspaceId,
      );
      if (updated.changes === 0) throw beforeWriting(new StorageError('NOT_FOUND', `Run ${r.id} not found`));
    }
    this.stepLogRows.run(
      c.stepLogs.map((s) => [s.runId, s.stepNo, s.workspaceId, s.at, s.event, json(s.path), json(s.effects), s.status, jsonOrNull(s.error)]),
    );
    const at = lastStepAt(c);
    for (const effect of c.effects) {
      q.insertOutbox.run(r.id, effect.seq, r.workspaceId, json(effect), at, at);
    }
    if (c.journalEntryId !== undefined) q.markProcessed.run(at, c.journalEntryId);
    if (c.messages) this.messageRows.run(c.messages.map(messageRow));
    if (c.contactChanges) {
      const row = q.getContact.get(r.workspaceId, c.contactChanges.contactId);
      if (row) {
        const merged = mergeFields(JSON.parse(row.fields) as JsonObject, c.contactChanges.fields);
        if (merged.changed.length > 0) q.setContactFields.run(json(merged.fields), at, r.workspaceId, row.id);
      }
    }
  };

  // A commit's step-log rows and messages, each in one statement (see MultiRowInsert); a single
  // message too, so its INSERT is written once.
  private get stepLogRows(): MultiRowInsert {
    return (this.#stepLogRows ??= new MultiRowInsert(
      this.db,
      'INSERT INTO step_log (run_id, step_no, workspace_id, at, event, path, effects, status, error)',
      9,
    ));
  }
  #stepLogRows: MultiRowInsert | undefined;

  private get messageRows(): MultiRowInsert {
    return (this.#messageRows ??= new MultiRowInsert(
      this.db,
      'INSERT INTO messages (workspace_id, contact_id, channel, direction, message, run_id, node_id, idempotency_key, at)',
      9,
      'ON CONFLICT (workspace_id, idempotency_key) DO NOTHING',
    ));
  }
  #messageRows: MultiRowInsert | undefined;

  private get commitTx() {
    return (this.#commitTx ??= this.db.transaction(this.#commit));
  }
  #commitTx: Database.Transaction<(c: StepCommit) => void> | undefined;

  /**
   * The journal. Dedupe keys are unique per workspace. `nextPending` treats the ordering key itself
   * as the lease key: an entry is skipped while a lease named after its ordering key is live
   * (`until >= now`), whoever holds it.
   */
  journal: SqliteStore['journal'] = {
    // Appends in the same turn of the event loop share a transaction and a sync (GroupCommit).
    append: (entry) => this.#appends.add(entry),
    nextPending: async (limit, now) => this.#guard(() => this.nextPending(Math.max(0, limit), now).map(toJournal)),
    pendingForKey: async (orderingKey, limit) =>
      this.#read(() => this.q.pendingForKey.all(orderingKey, Math.max(0, limit)).map(toJournal)),
    pendingForKeys: async (orderingKeys, limit) =>
      this.#read(() => {
        const byKey = new Map<string, JournalEntry[]>();
        if (orderingKeys.length === 0 || limit <= 0) return byKey;
        for (const row of this.q.pendingForKeys.all(JSON.stringify(orderingKeys), limit)) {
          const entries = byKey.get(row.ordering_key);
          if (entries) entries.push(toJournal(row));
          else byKey.set(row.ordering_key, [toJournal(row)]);
        }
        return byKey;
      }),
    markProcessed: async (id, at) =>
      this.#guard(() => {
        if (this.q.markProcessed.run(at, id).changes === 0) throw new StorageError('NOT_FOUND', `Journal entry ${id} not found`);
      }),
    markFailed: async (id, error, at) =>
      this.#guard(() => {
        if (this.q.markFailed.run(error, at, id).changes === 0) throw new StorageError('NOT_FOUND', `Journal entry ${id} not found`);
      }),
    countPending: async () => this.#guard(() => this.q.countPendingJournal.get()?.n ?? 0),
  };

  private appendJournal(entry: NewJournalEntry): { inserted: boolean; entry: JournalEntry } {
    const result = this.q.insertJournal.run(
      entry.id, entry.workspaceId, entry.kind, entry.dedupeKey, entry.orderingKey, json(entry.payload), entry.receivedAt,
    );
    if (result.changes > 0) {
      // What was just inserted needs no read back: its seq is the rowid.
      return {
        inserted: true,
        entry: {
          seq: Number(result.lastInsertRowid),
          id: entry.id,
          workspaceId: entry.workspaceId,
          kind: entry.kind,
          dedupeKey: entry.dedupeKey,
          orderingKey: entry.orderingKey,
          payload: entry.payload,
          receivedAt: entry.receivedAt,
          status: 'pending',
          attempts: 0,
        },
      };
    }
    const row = this.q.journalByDedupe.get(entry.workspaceId, entry.dedupeKey);
    if (!row) throw new StorageError('NOT_FOUND', `Journal entry ${entry.dedupeKey} vanished`);
    return { inserted: false, entry: toJournal(row) };
  }

  /**
   * The outbox. `claim` counts an attempt (so an effect that crashes its process still counts), and
   * orders by due time. `complete` and `fail` act only on a pending entry: a second call (say from
   * an executor whose lease expired) changes nothing and journals nothing.
   */
  outbox: SqliteStore['outbox'] = {
    claim: async (owner, limit, now, leaseUntil, types = EFFECT_TYPES, shares) => {
      // The UPDATE leases only entries still due and free: another process may have taken some of
      // those read, and no explicit transaction is needed around the reads.
      const claimed = this.#guard(() => {
        const rowids = this.claimableByTurns(Math.max(0, limit), now, types, shares);
        return rowids.length === 0 ? [] : this.q.claimOutboxRows.all(owner, leaseUntil, JSON.stringify(rowids), now, now);
      })
        .map(toOutbox)
        .sort((a, b) => a.availableAt - b.availableAt || a.createdAt - b.createdAt || a.seq - b.seq);
      // An effect leaves the machine only once the inbound event that caused it is durable: steps
      // commit without a sync, and so may the append, in another process, of the event they consumed.
      if (claimed.length > 0) await this.durable();
      return claimed;
    },
    renew: async (owner, effects, leaseUntil) =>
      this.#guard(() =>
        effects.length === 0
          ? 0
          : this.db.transaction(() => effects.reduce((n, e) => n + this.q.renewOutbox.run(leaseUntil, e.runId, e.seq, owner).changes, 0)).immediate(),
      ),
    // Effects finishing in the same turn of the event loop share a transaction (GroupCommit).
    complete: (runId, seq, result, at, outcome, message) =>
      this.#completions.add({ runId, seq, result, at, ...(outcome ? { outcome } : {}), ...(message ? { message } : {}) }),
    fail: async (runId, seq, error, retryAt, at, outcome) =>
      this.#guard(() =>
        this.db
          .transaction(() => {
            if (retryAt !== undefined) {
              if (this.q.retryOutbox.run(retryAt, error, runId, seq).changes === 0) this.assertOutbox(runId, seq);
              return;
            }
            if (this.q.failOutbox.run(at, error, runId, seq).changes === 0) return this.assertOutbox(runId, seq);
            if (outcome) this.appendJournal(outcome);
          })
          .immediate(),
      ),
    get: async (runId, seq) =>
      this.#guard(() => {
        const row = this.q.getOutbox.get(runId, seq);
        return row && toOutbox(row);
      }),
    countPending: async () => this.#guard(() => this.q.countPendingOutbox.get()?.n ?? 0),
  };

  private completeOne(c: Completion): ConversationMessage | undefined {
    if (this.q.completeOutbox.run(c.at, json(c.result), c.runId, c.seq).changes === 0) {
      this.assertOutbox(c.runId, c.seq);
      return undefined;
    }
    if (c.outcome) this.appendJournal(c.outcome);
    return c.message && this.appendMessage(c.message);
  }

  private appendMessage(m: Omit<ConversationMessage, 'seq'>): ConversationMessage {
    const inserted = this.messageRows.run([messageRow(m)]);
    // A fresh insert is what was given: no read back (the row's rowid is its seq).
    if (inserted && inserted.changes > 0) return definedOnly({ ...m, seq: Number(inserted.lastInsertRowid) }) as ConversationMessage;
    const row = this.q.messageByKey.get(m.workspaceId, m.idempotencyKey);
    if (!row) throw new StorageError('NOT_FOUND', `Message ${m.idempotencyKey} vanished`);
    return toMessage(row);
  }

  private assertOutbox(runId: string, seq: number): void {
    if (!this.q.outboxStatus.get(runId, seq)) throw new StorageError('NOT_FOUND', `Outbox entry ${runId}:${seq} not found`);
  }

  messages: SqliteStore['messages'] = {
    append: async (m) => this.#guard(() => this.appendMessage(m)),
    list: async (workspaceId, contactId, options = {}) => {
      const found = this.#read(() =>
        (options.direction === undefined
          ? this.q.listMessages.all(workspaceId, contactId, options.afterSeq ?? 0, pageSize(options.limit))
          : this.q.listMessagesOneWay.all(workspaceId, contactId, options.afterSeq ?? 0, options.direction, pageSize(options.limit))
        ).map(toMessage),
      );
      // A reply recorded with its step may be committed before the message that caused it is
      // synced: nobody sees it until both would survive a power loss. Under load some sync has
      // usually covered it already.
      const newest = found.at(-1)?.seq ?? 0;
      if (newest > this.#durableMessageSeq) {
        // The sync running now, when it started after the message was written; else the next.
        const running = newest <= this.#syncingMessageSeq ? this.walSync?.inFlight : undefined;
        await (running ?? this.durable());
      }
      return found;
    },
    storedAfter: async (afterSeq, limit) => this.#guard(() => this.q.messagesStoredAfter.all(afterSeq, Math.max(0, limit))),
    lastSeq: async () => this.#guard(() => this.q.maxMessageSeq.get()?.seq ?? 0),
  };

  /** Leases: one atomic upsert; a lease is live while `until >= now`. */
  leases: SqliteStore['leases'] = {
    acquire: async (key, owner, now, until) => this.#guard(() => this.q.acquireLease.run(key, owner, until, now).changes > 0),
    release: async (key, owner) =>
      this.#guard(() => {
        this.q.releaseLease.run(key, owner);
      }),
    acquireMany: async (keys, owner, now, until) =>
      this.#guard(() => this.acquireLeasesTx.immediate(keys, owner, now, until)),
    releaseMany: async (keys, owner) => this.#guard(() => this.releaseLeasesTx.immediate(keys, owner)),
  };

  private get acquireLeasesTx() {
    return (this.#acquireLeasesTx ??= this.db.transaction((keys: readonly string[], owner: string, now: number, until: number) =>
      keys.filter((key) => this.q.acquireLease.run(key, owner, until, now).changes > 0),
    ));
  }
  #acquireLeasesTx: Database.Transaction<(keys: readonly string[], owner: string, now: number, until: number) => string[]> | undefined;

  private get releaseLeasesTx() {
    return (this.#releaseLeasesTx ??= this.db.transaction((keys: readonly string[], owner: string) => {
      for (const key of keys) this.q.releaseLease.run(key, owner);
    }));
  }
  #releaseLeasesTx: Database.Transaction<(keys: readonly string[], owner: string) => void> | undefined;

  /**
   * Deletes what the policy lets go, in short batches (see `pruneSqlite`): journal entries that
   * finished (processed or failed), finished outbox entries, the whole step log of runs that ended
   * before `now - stepLogMs`, and runs that ended before `now - endedRunsMs`. Run `vacuum()` after.
   */
  async prune(policy: RetentionPolicy, now: number): Promise<PruneReport> {
    try {
      return await pruneSqlite(this.db, policy, now);
    } catch (err) {
      throw toStorageError(err);
    }
  }
}

/** Cuts `limit + 1` fetched items to a page; the extra item only tells that there is a next page. */
function page<T extends { createdAt: number; id: string }>(items: T[], limit: number): Page<T> {
  if (items.length <= limit) return { items };
  const kept = items.slice(0, limit);
  const last = kept[kept.length - 1]!;
  return { items: kept, next: encodeCursor({ createdAt: last.createdAt, id: last.id }) };
}
