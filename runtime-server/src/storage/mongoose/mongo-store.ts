import { randomUUID } from 'node:crypto';
import mongoose, { type ClientSession, type Connection } from 'mongoose';
import { EFFECT_TYPES, type Effect, type FlowDefinition, type JsonObject } from '@convoflow/engine';
import { StorageError } from '../errors.js';
import {
  DEFAULT_WORKSPACE_SETTINGS,
  decodeCursor,
  definedOnly,
  encodeCursor,
  expiredThrough,
  mergeFields,
  pageSize,
  zeroStatusCounts,
  type StoredOutboxEntry,
} from '../store-helpers.js';
import type {
  ApiKeyRecord,
  ContactAnnouncement,
  ContactChannelIdentity,
  ContactRecord,
  ConversationMessage,
  FlowRecord,
  FlowVersionRecord,
  JournalEntry,
  Page,
  PruneReport,
  RetentionPolicy,
  RunFilter,
  RunRecord,
  RunSummary,
  StepCommit,
  StepLogEntry,
  StoragePort,
  StoredMessageRef,
  StoredRunStatus,
  Workspace,
} from '../storage-port.js';
import { lastStepAt } from '../storage-port.js';
import { fullWorkspaces, pickByTurns, roomOf, type ClaimCandidate } from '../claim-turns.js';
import {
  defineModels,
  OBSOLETE_INDEXES,
  type ApiKeyDoc,
  type ContactDoc,
  type FlowDoc,
  type FlowVersionDoc,
  type JournalDoc,
  type MessageDoc,
  type Models,
  type OutboxDoc,
  type RunDoc,
  type StepLogDoc,
  type WorkspaceDoc,
} from './models.js';

/** Options of `createMongoStore`. */
export interface MongoStoreOptions {
  /** A MongoDB connection string. The server must be a replica set (a single-node one will do). */
  uri: string;
  /** Database name, when the URI does not name one (tests use a fresh one each). */
  dbName?: string;
}

/** The MongoDB store: the storage port plus its connection. */
export interface MongoStore extends StoragePort {
  readonly kind: 'mongo';
  /** The mongoose connection (its own, not mongoose's default one). */
  readonly connection: Connection;
  /** Several step commits, each all-or-nothing on its own (one transaction each on MongoDB). */
  commitSteps(commits: StepCommit[]): Promise<(Error | undefined)[]>;
  outbox: StoragePort['outbox'] & {
    claim(...args: Parameters<StoragePort['outbox']['claim']>): Promise<StoredOutboxEntry[]>;
    get(runId: string, seq: number): Promise<StoredOutboxEntry | undefined>;
  };
}

/** Schema version recorded by `migrate()`; raise it with every change that needs a data migration. */
const SCHEMA_VERSION = 1;
const PRUNE_BATCH = 500;
const RUN_BATCH = 50;

/**
 * Opens a MongoDB store through mongoose, for scale-out: several runtime-server processes share one
 * database, and leases, claims and commits stay correct across them.
 *
 * MongoDB must run as a replica set: `commitStep`, `flows.publish`, `outbox.complete`/`fail` and
 * contact creation are multi-document transactions (`session.withTransaction`), which a standalone
 * server refuses. A single-node replica set (`mongod --replSet rs0` + `rs.initiate()`) is enough.
 * Call `migrate()` before use: it opens the connection and creates the collections and their
 * (unique) indexes.
 *
 * @example
 * ```ts
 * const store = createMongoStore({ uri: process.env.MONGODB_URI! });
 * await store.migrate();
 * ```
 */
export function createMongoStore(options: MongoStoreOptions): MongoStore {
  // The connection opens in migrate(), so creating a store never touches the network.
  const connection = mongoose.createConnection();
  return new MongoStoreImpl(connection, options);
}

const errorCode = (err: unknown): unknown => (typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined);
const isDuplicateKey = (err: unknown): boolean => errorCode(err) === 11000;
/** MongoDB's OutOfDiskSpace. */
const isDiskFull = (err: unknown): boolean => errorCode(err) === 14031;
/**
 * The server cannot be reached: the driver's own errors, and mongoose's, which wraps a failed
 * first connection (MongooseServerSelectionError) and, once disconnected, buffers commands until
 * they fail with "buffering timed out".
 */
const isUnreachable = (err: unknown): boolean =>
  err instanceof mongoose.mongo.MongoNetworkError ||
  err instanceof mongoose.mongo.MongoServerSelectionError ||
  err instanceof mongoose.Error.MongooseServerSelectionError ||
  (err instanceof mongoose.Error && /buffering timed out/.test(err.message));

/**
 * What a replica set answers while it elects a primary or a member shuts down: the codes of the
 * retryable-writes specification, as the driver lists them (not exported by it). The write did not
 * happen, and works against the next primary; the driver retries it once, and a failover that
 * outlasts that surfaces here.
 */
const FAILOVER_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * A failover in progress: a failover code (on a write-concern error too), or the labels the server
 * and driver give an operation that did not happen and may be retried. Not UnknownTransactionCommitResult:
 * that commit may have happened (withTransaction retries it itself).
 */
function isFailover(err: unknown): boolean {
  if (!(err instanceof mongoose.mongo.MongoError)) return false;
  const labels = mongoose.mongo.MongoErrorLabel;
  if (err.hasErrorLabel(labels.RetryableWriteError) || err.hasErrorLabel(labels.TransientTransactionError)) return true;
  const concern = err instanceof mongoose.mongo.MongoWriteConcernError ? err.result?.writeConcernError?.code : undefined;
  return FAILOVER_CODES.has(Number(concern ?? err.code));
}

/**
 * Maps a driver (or mongoose) error to the StorageError its kind means: CONFLICT, FULL, and
 * UNAVAILABLE for a server that cannot be reached or is failing over (transient: answered 503 and
 * retried). Lets StorageErrors, and errors of other kinds, through unchanged.
 * @internal
 */
export function toMongoStorageError(err: unknown): unknown {
  if (err instanceof StorageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isDuplicateKey(err)) return new StorageError('CONFLICT', message, { cause: err });
  if (isDiskFull(err)) return new StorageError('FULL', message, { cause: err });
  if (isUnreachable(err) || isFailover(err)) return new StorageError('UNAVAILABLE', message, { cause: err });
  return err;
}

/** Runs a store call, mapping what it throws (see `toMongoStorageError`). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toMongoStorageError(err);
  }
}

function strip<T extends object>(doc: T & { _id?: unknown }): Omit<T, '_id'> {
  const { _id: _ignored, ...rest } = doc;
  return rest;
}

const toWorkspace = (d: WorkspaceDoc): Workspace => ({ id: d._id, name: d.name, createdAt: d.createdAt, settings: d.settings });
const toApiKey = (d: ApiKeyDoc): ApiKeyRecord => ({ id: d._id, ...strip(d) });
/** A flow document as a FlowRecord, or, read without its draft, as a FlowSummary. */
function toFlow<D extends Omit<FlowDoc, 'draft'>>(d: D) {
  const { flowId, deletedAt: _deleted, ...rest } = strip(d);
  return { id: flowId, ...rest };
}
const toFlowVersion = (d: FlowVersionDoc): FlowVersionRecord => strip(d);
const toContact = (d: ContactDoc): ContactRecord => ({ id: d._id, ...strip(d) });
/** A run document as a RunRecord, or, read without its snapshot, as a RunSummary. */
function toRun<D extends Omit<RunDoc, 'snapshot'>>(d: D) {
  const { logsPruned: _pruned, ...rest } = strip(d);
  return { id: d._id, ...rest };
}
const toStepLog = (d: StepLogDoc): StepLogEntry => strip(d);
const toJournal = (d: JournalDoc): JournalEntry => ({ id: d._id, ...strip(d) });
const toOutbox = (d: OutboxDoc): StoredOutboxEntry => strip(d);
const toMessage = (d: MessageDoc): ConversationMessage => strip(d);

function toRunDoc(r: RunRecord): RunDoc {
  const { id, ...rest } = r;
  return { _id: id, ...rest, logsPruned: false };
}

/** Filter of the items after a cursor, in (createdAt, _id) descending order. */
function afterCursor(cursor: string | undefined): Record<string, unknown> {
  if (cursor === undefined) return {};
  const after = decodeCursor(cursor);
  return { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }] };
}

function page<T extends { createdAt: number; id: string }>(items: T[], limit: number): Page<T> {
  if (items.length <= limit) return { items };
  const kept = items.slice(0, limit);
  const last = kept[kept.length - 1]!;
  return { items: kept, next: encodeCursor({ createdAt: last.createdAt, id: last.id }) };
}

class MongoStoreImpl implements MongoStore {
  readonly kind = 'mongo' as const;
  readonly #m: Models;

  constructor(
    readonly connection: Connection,
    private readonly options: MongoStoreOptions,
  ) {
    this.#m = defineModels(connection);
  }

  /** Runs `fn` in a transaction, retried by the driver on transient errors. */
  private async tx<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    const session = await this.connection.startSession();
    try {
      let result: T | undefined;
      await session.withTransaction(async () => {
        result = await fn(session);
      });
      return result as T;
    } finally {
      await session.endSession();
    }
  }

  private async nextSeq(name: string, session?: ClientSession): Promise<number> {
    const counter = await this.#m.Counter.findOneAndUpdate(
      { _id: name },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after', ...(session ? { session } : {}) },
    ).lean();
    return counter!.seq;
  }

  /** Per effect type, the workspace the last claim with more of them than it could take stopped at. */
  readonly #outboxTurns = new Map<string, string>();

  /**
   * Up to `limit` workspaces, in rotation, with effects of `type` due at `now`, leaving out `full`:
   * one seek each through the claim's index, whose first entry of a workspace is its longest due.
   */
  private async workspacesWithDueEffects(type: Effect['type'], now: number, limit: number, full: ReadonlySet<string>): Promise<string[]> {
    const found: string[] = [];
    const scan = async (after: string, through?: string) => {
      for (let cursor = after; found.length < limit; ) {
        const head = await this.#m.Outbox.findOne({
          status: 'pending',
          'effect.type': type,
          workspaceId: { $gt: cursor, ...(through === undefined ? {} : { $lte: through }) },
        })
          .sort({ 'effect.type': 1, workspaceId: 1, availableAt: 1, _id: 1 })
          .select({ workspaceId: 1, availableAt: 1 })
          .lean<Pick<OutboxDoc, 'workspaceId' | 'availableAt'>>();
        if (!head) return;
        cursor = head.workspaceId;
        if (head.availableAt <= now && !full.has(cursor)) found.push(cursor);
      }
    };
    const after = this.#outboxTurns.get(type) ?? '';
    await scan(after);
    if (after !== '') await scan('', after);
    // More may be waiting: the next claim starts after the last one read now.
    if (found.length === limit) this.#outboxTurns.set(type, found.at(-1) as string);
    return found;
  }

  async migrate(): Promise<void> {
    await guard(async () => {
      if (this.connection.readyState === mongoose.ConnectionStates.disconnected) {
        await this.connection.openUri(this.options.uri, {
          ...(this.options.dbName ? { dbName: this.options.dbName } : {}),
          autoIndex: false,
          autoCreate: false,
        });
      } else {
        await this.connection.asPromise();
      }
      for (const model of Object.values(this.#m) as mongoose.Model<unknown>[]) {
        try {
          await model.createCollection();
        } catch (err) {
          if ((err as { codeName?: string }).codeName !== 'NamespaceExists') throw err;
        }
        await model.createIndexes();
        for (const name of OBSOLETE_INDEXES[model.collection.collectionName] ?? []) {
          await model.collection.dropIndex(name).catch((err: unknown) => {
            // Never made here, or dropped by another process migrating at once.
            if ((err as { codeName?: string }).codeName !== 'IndexNotFound') throw err;
          });
        }
      }
      await this.#m.Meta.updateOne(
        { _id: 'schema' },
        { $max: { version: SCHEMA_VERSION }, $setOnInsert: { appliedAt: Date.now() } },
        { upsert: true },
      ).catch((err: unknown) => {
        // Two processes migrating at once: the other one inserted it.
        if (!isDuplicateKey(err)) throw err;
      });
    });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  workspaces: MongoStore['workspaces'] = {
    create: ({ id, name, settings }) =>
      guard(async () => {
        const doc: WorkspaceDoc = {
          _id: id ?? randomUUID(),
          name,
          createdAt: Date.now(),
          settings: { ...DEFAULT_WORKSPACE_SETTINGS, ...definedOnly(settings ?? {}) },
        };
        await this.#m.Workspace.create(doc);
        return toWorkspace(doc);
      }),
    get: (id) =>
      guard(async () => {
        const doc = await this.#m.Workspace.findById(id).lean<WorkspaceDoc>();
        return doc ? toWorkspace(doc) : undefined;
      }),
    list: () =>
      guard(async () => (await this.#m.Workspace.find().sort({ createdAt: 1, _id: 1 }).lean<WorkspaceDoc[]>()).map(toWorkspace)),
    updateSettings: (id, settings) =>
      guard(async () => {
        const set = Object.fromEntries(Object.entries(definedOnly(settings)).map(([k, v]) => [`settings.${k}`, v]));
        const doc = await this.#m.Workspace.findOneAndUpdate({ _id: id }, { $set: set }, { returnDocument: 'after' }).lean<WorkspaceDoc>();
        if (!doc) throw new StorageError('NOT_FOUND', `Workspace ${id} not found`);
        return toWorkspace(doc);
      }),
  };

  apiKeys: MongoStore['apiKeys'] = {
    insert: (r) =>
      guard(async () => {
        const { id, ...rest } = r;
        await this.#m.ApiKey.create({ _id: id, ...rest });
      }),
    findByHash: (keyHash) =>
      guard(async () => {
        const doc = await this.#m.ApiKey.findOne({ keyHash }).lean<ApiKeyDoc>();
        return doc ? toApiKey(doc) : undefined;
      }),
    list: (workspaceId) =>
      guard(async () => (await this.#m.ApiKey.find({ workspaceId }).sort({ createdAt: 1, _id: 1 }).lean<ApiKeyDoc[]>()).map(toApiKey)),
    revoke: (workspaceId, id, at) =>
      guard(() =>
        this.tx(async (session): Promise<'revoked' | 'not_found' | 'last_admin'> => {
          const key = await this.#m.ApiKey.findOne({ _id: id, workspaceId, revokedAt: { $exists: false } }, { role: 1 }, { session }).lean<ApiKeyDoc>();
          if (!key) return 'not_found';
          if (key.role === 'admin') {
            // Revoking the last two admin keys at once must not pass twice: both transactions
            // write this counter, so one of them conflicts, is retried, and counts one admin.
            await this.nextSeq(`admin-keys:${workspaceId}`, session);
            const admins = await this.#m.ApiKey.countDocuments({ workspaceId, role: 'admin', revokedAt: { $exists: false } }, { session });
            if (admins <= 1) return 'last_admin';
          }
          await this.#m.ApiKey.updateOne({ _id: id }, { $set: { revokedAt: at } }, { session });
          return 'revoked';
        }),
      ),
  };

  /**
   * Flows. A flow's id is its draft's `id` (generated when empty). Deleting a flow hides it from
   * get/list/listActive and stops new runs, but keeps its versions: runs are pinned to them, so
   * `getVersion`/`listVersions` still answer for a deleted flow.
   */
  flows: MongoStore['flows'] = {
    create: ({ workspaceId, draft, at }) =>
      guard(async () => {
        const flowId = draft.id || randomUUID();
        const doc: FlowDoc = {
          workspaceId,
          flowId,
          name: draft.name,
          draft: { ...draft, id: flowId },
          revision: 1,
          latestVersion: 0,
          createdAt: at,
          updatedAt: at,
        };
        await this.#m.Flow.create(doc);
        return toFlow(doc);
      }),
    get: (workspaceId, id) =>
      guard(async () => {
        const doc = await this.#m.Flow.findOne({ workspaceId, flowId: id, deletedAt: { $exists: false } }).lean<FlowDoc>();
        return doc ? toFlow(doc) : undefined;
      }),
    list: (workspaceId) =>
      guard(async () =>
        (
          await this.#m.Flow.find({ workspaceId, deletedAt: { $exists: false } }, { draft: 0 })
            .sort({ createdAt: 1, flowId: 1 })
            .lean<Array<Omit<FlowDoc, 'draft'>>>()
        ).map(toFlow),
      ),
    updateDraft: (workspaceId, id, draft, expectedRevision, at) =>
      guard(async () => {
        const stored: FlowDefinition = { ...draft, id };
        const doc = await this.#m.Flow.findOneAndUpdate(
          { workspaceId, flowId: id, revision: expectedRevision, deletedAt: { $exists: false } },
          { $set: { draft: stored, name: stored.name, updatedAt: at }, $inc: { revision: 1 } },
          { returnDocument: 'after' },
        ).lean<FlowDoc>();
        return doc ? toFlow(doc) : undefined;
      }),
    delete: (workspaceId, id) =>
      guard(async () => {
        const now = Date.now();
        const result = await this.#m.Flow.updateOne(
          { workspaceId, flowId: id, deletedAt: { $exists: false } },
          { $set: { deletedAt: now, updatedAt: now } },
        );
        return result.modifiedCount > 0;
      }),
    publish: (workspaceId, id, publishedBy, at) =>
      guard(() =>
        this.tx(async (session) => {
          // Bumping latestVersion first makes two concurrent publishes conflict on the flow document.
          const flow = await this.#m.Flow.findOneAndUpdate(
            { workspaceId, flowId: id, deletedAt: { $exists: false } },
            { $inc: { latestVersion: 1 } },
            { returnDocument: 'after', session },
          ).lean<FlowDoc>();
          if (!flow) throw new StorageError('NOT_FOUND', `Flow ${id} not found`);
          const version: FlowVersionDoc = {
            workspaceId,
            flowId: id,
            version: flow.latestVersion,
            definition: flow.draft,
            publishedAt: at,
            publishedBy,
          };
          await this.#m.FlowVersion.create([version], { session });
          await this.#m.Flow.updateOne(
            { workspaceId, flowId: id },
            { $set: { activeVersion: version.version, updatedAt: at } },
            { session },
          );
          return version;
        }),
      ),
    listVersions: (workspaceId, id) =>
      guard(async () =>
        (
          await this.#m.FlowVersion.find({ workspaceId, flowId: id }, { definition: 0 })
            .sort({ version: 1 })
            .lean<Array<Omit<FlowVersionDoc, 'definition'>>>()
        ).map((d) => strip(d)),
      ),
    getVersion: (workspaceId, id, version) =>
      guard(async () => {
        const doc = await this.#m.FlowVersion.findOne({ workspaceId, flowId: id, version }).lean<FlowVersionDoc>();
        return doc ? toFlowVersion(doc) : undefined;
      }),
    activate: (workspaceId, id, version, at) =>
      guard(async () => {
        // Versions are immutable and never deleted, so checking first and updating after is safe.
        if (!(await this.#m.FlowVersion.exists({ workspaceId, flowId: id, version }))) return undefined;
        const doc = await this.#m.Flow.findOneAndUpdate(
          { workspaceId, flowId: id, deletedAt: { $exists: false } },
          { $set: { activeVersion: version, updatedAt: at } },
          { returnDocument: 'after' },
        ).lean<FlowDoc>();
        return doc ? toFlow(doc) : undefined;
      }),
    listActive: (workspaceId) =>
      guard(async () => {
        const flows = await this.#m.Flow.find({
          ...(workspaceId === undefined ? {} : { workspaceId }),
          activeVersion: { $exists: true },
          deletedAt: { $exists: false },
        })
          .sort({ workspaceId: 1, createdAt: 1, flowId: 1 })
          .lean<FlowDoc[]>();
        if (flows.length === 0) return [];
        const versions = await this.#m.FlowVersion.find({
          $or: flows.map((f) => ({ workspaceId: f.workspaceId, flowId: f.flowId, version: f.activeVersion })),
        }).lean<FlowVersionDoc[]>();
        const byKey = new Map(versions.map((v) => [`${v.workspaceId}\u0000${v.flowId}\u0000${v.version}`, v]));
        return flows.flatMap((f) => {
          const v = byKey.get(`${f.workspaceId}\u0000${f.flowId}\u0000${f.activeVersion}`);
          return v ? [toFlowVersion(v)] : [];
        });
      }),
    // Versions are never deleted and `activate` checks one exists, so an active version is there.
    listActiveVersionIds: (workspaceId) =>
      guard(async () => {
        const flows = await this.#m.Flow.find(
          { workspaceId, activeVersion: { $exists: true }, deletedAt: { $exists: false } },
          { flowId: 1, activeVersion: 1 },
        )
          .sort({ createdAt: 1, flowId: 1 })
          .lean<Array<Pick<FlowDoc, 'flowId' | 'activeVersion'>>>();
        return flows.map((f) => ({ flowId: f.flowId, version: f.activeVersion as number }));
      }),
  };

  /**
   * Contacts. `upsertByIdentity` uses `fields` only when it creates the contact; an existing
   * contact is returned as it is (change it with `update`).
   */
  contacts: MongoStore['contacts'] = {
    upsertByIdentity: (workspaceId, identity, fields, at, announce) =>
      guard(async () => {
        const existing = await this.findByIdentity(workspaceId, identity);
        if (existing) return { contact: existing, created: false };
        try {
          return { contact: await this.insertContact(workspaceId, fields, [identity], at, announce), created: true };
        } catch (err) {
          // Another process created it between our read and our insert.
          if (!isDuplicateKey(err)) throw err;
          const contact = await this.findByIdentity(workspaceId, identity);
          if (!contact) throw err;
          return { contact, created: false };
        }
      }),
    findByIdentity: (workspaceId, identity) => guard(() => this.findByIdentity(workspaceId, identity)),
    create: (workspaceId, fields, identities, at, announce) => guard(() => this.insertContact(workspaceId, fields, identities, at, announce)),
    get: (workspaceId, id) =>
      guard(async () => {
        const doc = await this.#m.Contact.findOne({ _id: id, workspaceId }).lean<ContactDoc>();
        return doc ? toContact(doc) : undefined;
      }),
    list: (workspaceId, options = {}) =>
      guard(async () => {
        const limit = pageSize(options.limit);
        const docs = await this.#m.Contact.find({ workspaceId, ...afterCursor(options.cursor) })
          .sort({ createdAt: -1, _id: -1 })
          .limit(limit + 1)
          .lean<ContactDoc[]>();
        return page(docs.map(toContact), limit);
      }),
    update: (workspaceId, id, fields, at, announce) =>
      guard(() =>
        this.tx(async (session) => {
          const doc = await this.#m.Contact.findOne({ _id: id, workspaceId }).session(session).lean<ContactDoc>();
          if (!doc) return undefined;
          const contact = toContact(doc);
          const merged = mergeFields(contact.fields, fields);
          if (merged.changed.length > 0) {
            await this.#m.Contact.updateOne({ _id: id }, { $set: { fields: merged.fields, updatedAt: at } }, { session });
            contact.fields = merged.fields;
            contact.updatedAt = at;
            if (announce) await this.appendJournal(announce(contact, merged.changed), session);
          }
          return { contact, changed: merged.changed };
        }),
      ),
  };

  private async findByIdentity(workspaceId: string, identity: ContactChannelIdentity): Promise<ContactRecord | undefined> {
    const link = await this.#m.ContactIdentity.findOne({ workspaceId, channel: identity.channel, externalId: identity.externalId }).lean();
    if (!link) return undefined;
    const doc = await this.#m.Contact.findOne({ _id: link.contactId, workspaceId }).lean<ContactDoc>();
    return doc ? toContact(doc) : undefined;
  }

  /** Inserts a contact and its identities, and its announcement when given, in one transaction. */
  private insertContact(
    workspaceId: string,
    fields: JsonObject,
    identities: ContactChannelIdentity[],
    at: number,
    announce?: ContactAnnouncement,
  ): Promise<ContactRecord> {
    return this.tx(async (session) => {
      const doc: ContactDoc = { _id: randomUUID(), workspaceId, fields, identities, createdAt: at, updatedAt: at };
      await this.#m.Contact.create([doc], { session });
      if (identities.length > 0) {
        await this.#m.ContactIdentity.insertMany(
          identities.map((i) => ({ workspaceId, channel: i.channel, externalId: i.externalId, contactId: doc._id })),
          { session },
        );
      }
      const contact = toContact(doc);
      if (announce) await this.appendJournal(announce(contact, Object.keys(fields)), session);
      return contact;
    });
  }

  /** Runs. Lists are newest first, paginated by (createdAt, id). */
  runs: MongoStore['runs'] = {
    get: (workspaceId, id) =>
      guard(async () => {
        const doc = await this.#m.Run.findOne({ _id: id, workspaceId }).lean<RunDoc>();
        return doc ? toRun(doc) : undefined;
      }),
    list: (workspaceId, filter) => guard(() => this.listRuns(workspaceId, filter)),
    listActiveForContact: (workspaceId, contactId) =>
      guard(async () =>
        (
          await this.#m.Run.find({ workspaceId, contactId, status: { $in: ['running', 'waiting'] } })
            .sort({ createdAt: 1, _id: 1 })
            .lean<RunDoc[]>()
        ).map(toRun),
      ),
    stepLog: (runId, options) =>
      guard(async () => {
        if (options?.limit === 0) return []; // Mongo reads limit(0) as no limit
        const after = options?.afterStepNo;
        const query = this.#m.StepLog.find(after === undefined ? { runId } : { runId, stepNo: { $gt: after } }).sort({ stepNo: 1 });
        if (options?.limit !== undefined) query.limit(options.limit);
        return (await query.lean<StepLogDoc[]>()).map(toStepLog);
      }),
    countByStatus: (workspaceId) =>
      guard(async () => {
        const counts = zeroStatusCounts();
        const rows = await this.#m.Run.aggregate<{ _id: StoredRunStatus; n: number }>([
          ...(workspaceId === undefined ? [] : [{ $match: { workspaceId } }]),
          { $group: { _id: '$status', n: { $sum: 1 } } },
        ]);
        for (const row of rows) counts[row._id] = row.n;
        return counts;
      }),
  };

  private async listRuns(workspaceId: string, filter: RunFilter): Promise<Page<RunSummary>> {
    const limit = pageSize(filter.limit);
    const query: Record<string, unknown> = { workspaceId, ...afterCursor(filter.cursor) };
    if (filter.flowId !== undefined) query.flowId = filter.flowId;
    if (filter.contactId !== undefined) query.contactId = filter.contactId;
    if (filter.status !== undefined) query.status = filter.status;
    const docs = await this.#m.Run.find(query, { snapshot: 0 })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .lean<Array<Omit<RunDoc, 'snapshot'>>>();
    return page(docs.map(toRun), limit);
  }

  /**
   * One transaction. The lease document must be owned by `leaseOwner` (expiry is not checked); the
   * commit writes to it, so a concurrent takeover conflicts with the commit instead of slipping past
   * it. Otherwise it throws StorageError `LEASE_LOST` and writes nothing. Effects already in the
   * outbox are left as they are; contact changes of a missing contact are dropped.
   */
  commitStep(c: StepCommit): Promise<void> {
    return guard(() =>
      this.tx(async (session) => {
        const held = await this.#m.Lease.updateOne({ _id: c.leaseKey, owner: c.leaseOwner }, { $inc: { commits: 1 } }, { session });
        if (held.matchedCount === 0) throw new StorageError('LEASE_LOST', `Lease ${c.leaseKey} is not held by ${c.leaseOwner}`);
        if (c.releaseLease) await this.#m.Lease.deleteOne({ _id: c.leaseKey, owner: c.leaseOwner }, { session });
        const run = toRunDoc(c.run);
        if (c.isNew) {
          await this.#m.Run.create([run], { session });
        } else {
          const replaced = await this.#m.Run.replaceOne({ _id: run._id, workspaceId: run.workspaceId }, run, { session });
          if (replaced.matchedCount === 0) throw new StorageError('NOT_FOUND', `Run ${run._id} not found`);
        }
        const at = lastStepAt(c);
        await this.#m.StepLog.insertMany(c.stepLogs, { session });
        if (c.effects.length > 0) {
          await this.#m.Outbox.bulkWrite(
            c.effects.map((effect) => ({
              updateOne: {
                filter: { runId: run._id, seq: effect.seq },
                update: {
                  // runId and seq come from the filter on insert.
                  $setOnInsert: {
                    workspaceId: run.workspaceId,
                    effect,
                    status: 'pending',
                    attempts: 0,
                    availableAt: at,
                    createdAt: at,
                  },
                },
                upsert: true,
              },
            })),
            { session },
          );
        }
        if (c.journalEntryId !== undefined) {
          await this.#m.Journal.updateOne({ _id: c.journalEntryId }, { $set: { status: 'processed', processedAt: at } }, { session });
        }
        for (const message of c.messages ?? []) await this.appendMessageIn(message, session);
        if (c.contactChanges) {
          const contact = await this.#m.Contact.findOne({ _id: c.contactChanges.contactId, workspaceId: run.workspaceId })
            .session(session)
            .lean<ContactDoc>();
          if (contact) {
            const merged = mergeFields(contact.fields, c.contactChanges.fields);
            if (merged.changed.length > 0) {
              await this.#m.Contact.updateOne({ _id: contact._id }, { $set: { fields: merged.fields, updatedAt: at } }, { session });
            }
          }
        }
      }),
    );
  }

  async commitSteps(commits: StepCommit[]): Promise<(Error | undefined)[]> {
    const results: (Error | undefined)[] = [];
    for (const commit of commits) {
      try {
        await this.commitStep(commit);
        results.push(undefined);
      } catch (err) {
        results.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return results;
  }

  /**
   * The journal. Dedupe keys are unique per workspace. `nextPending` treats the ordering key itself
   * as the lease key: an entry is skipped while a lease named after its ordering key is live
   * (`until >= now`), whoever holds it.
   */
  journal: MongoStore['journal'] = {
    append: (entry) => guard(() => this.appendJournal(entry)),
    nextPending: (limit, now) =>
      guard(async () => {
        if (limit <= 0) return [];
        const docs = await this.#m.Journal.aggregate<JournalDoc>([
          { $match: { status: 'pending' } },
          { $sort: { orderingKey: 1, seq: 1 } },
          { $group: { _id: '$orderingKey', head: { $first: '$$ROOT' } } },
          { $lookup: { from: this.#m.Lease.collection.collectionName, localField: '_id', foreignField: '_id', as: 'lease' } },
          { $match: { lease: { $not: { $elemMatch: { until: { $gte: now } } } } } },
          { $replaceRoot: { newRoot: '$head' } },
          // Workspaces take turns: each one's oldest head, then each one's second, and so on.
          { $setWindowFields: { partitionBy: '$workspaceId', sortBy: { seq: 1 }, output: { turn: { $documentNumber: {} } } } },
          { $sort: { turn: 1, seq: 1 } },
          { $limit: limit },
          { $unset: 'turn' },
        ]);
        return docs.map(toJournal);
      }),
    pendingForKey: (orderingKey, limit) =>
      guard(async () => {
        if (limit <= 0) return [];
        return (await this.#m.Journal.find({ orderingKey, status: 'pending' }).sort({ seq: 1 }).limit(limit).lean<JournalDoc[]>()).map(toJournal);
      }),
    // One query per key: a single $in query cannot stop at `limit` per key, and one deep backlog
    // would fill it.
    pendingForKeys: async (orderingKeys, limit) => {
      const byKey = new Map<string, JournalEntry[]>();
      for (const key of orderingKeys) {
        const entries = await this.journal.pendingForKey(key, limit);
        if (entries.length > 0) byKey.set(key, entries);
      }
      return byKey;
    },
    markProcessed: (id, at) =>
      guard(async () => {
        const r = await this.#m.Journal.updateOne({ _id: id }, { $set: { status: 'processed', processedAt: at } });
        if (r.matchedCount === 0) throw new StorageError('NOT_FOUND', `Journal entry ${id} not found`);
      }),
    markFailed: (id, error, at) =>
      guard(async () => {
        const r = await this.#m.Journal.updateOne({ _id: id }, { $set: { status: 'failed', error, processedAt: at }, $inc: { attempts: 1 } });
        if (r.matchedCount === 0) throw new StorageError('NOT_FOUND', `Journal entry ${id} not found`);
      }),
    countPending: () => guard(() => this.#m.Journal.countDocuments({ status: 'pending' })),
  };

  /**
   * Inserts unless the (workspace, dedupe key) exists. Outside a transaction a concurrent insert of
   * the same key is caught and reported as a redelivery; inside one the duplicate-key error aborts
   * the transaction, and the caller's retry then finds the entry.
   */
  private async appendJournal(
    entry: Omit<JournalEntry, 'seq' | 'status' | 'attempts'>,
    session?: ClientSession,
  ): Promise<{ inserted: boolean; entry: JournalEntry }> {
    const find = () =>
      this.#m.Journal.findOne({ workspaceId: entry.workspaceId, dedupeKey: entry.dedupeKey })
        .session(session ?? null)
        .lean<JournalDoc>();
    const existing = await find();
    if (existing) return { inserted: false, entry: toJournal(existing) };
    const { id, ...rest } = entry;
    const doc: JournalDoc = { _id: id, ...rest, seq: await this.nextSeq('journal', session), status: 'pending', attempts: 0 };
    try {
      await this.#m.Journal.create([doc], session ? { session } : {});
    } catch (err) {
      if (session || !isDuplicateKey(err)) throw err;
      const raced = await find();
      if (!raced) throw err;
      return { inserted: false, entry: toJournal(raced) };
    }
    return { inserted: true, entry: toJournal(doc) };
  }

  /**
   * The outbox. `claim` takes entries one atomic findOneAndUpdate at a time (two processes never get
   * the same one while its lease is live) and counts an attempt. `complete` and `fail` act only on a
   * pending entry: a second call changes nothing and journals nothing.
   */
  outbox: MongoStore['outbox'] = {
    claim: (owner, limit, now, leaseUntil, types = EFFECT_TYPES, shares) =>
      guard(async () => {
        if (limit <= 0) return [];
        const free = { $or: [{ leaseUntil: null }, { leaseUntil: { $lt: now } }] };
        const full = new Set(fullWorkspaces(shares));
        const candidates: Array<ClaimCandidate<{ runId: string; seq: number }>> = [];
        for (const type of types) {
          for (const workspaceId of await this.workspacesWithDueEffects(type, now, limit, full)) {
            const due = await this.#m.Outbox.find({ status: 'pending', 'effect.type': type, workspaceId, availableAt: { $lte: now }, ...free })
              .sort({ 'effect.type': 1, workspaceId: 1, availableAt: 1, _id: 1 })
              .limit(Math.min(limit, roomOf(shares, workspaceId)))
              .select({ runId: 1, seq: 1, availableAt: 1 })
              .lean<Array<Pick<OutboxDoc, 'runId' | 'seq' | 'availableAt'>>>();
            due.forEach((doc, rank) => candidates.push({ id: { runId: doc.runId, seq: doc.seq }, workspaceId, availableAt: doc.availableAt, rank }));
          }
        }
        // One atomic findOneAndUpdate each: another process may have taken some of those read.
        const claimed: StoredOutboxEntry[] = [];
        for (const { runId, seq } of pickByTurns(candidates, limit, shares)) {
          const doc = await this.#m.Outbox.findOneAndUpdate(
            { runId, seq, status: 'pending', availableAt: { $lte: now }, ...free },
            { $set: { leaseOwner: owner, leaseUntil }, $inc: { attempts: 1 } },
            { returnDocument: 'after' },
          ).lean<OutboxDoc>();
          if (doc) claimed.push(toOutbox(doc));
        }
        return claimed;
      }),
    renew: (owner, effects, leaseUntil) =>
      guard(async () => {
        if (effects.length === 0) return 0;
        const r = await this.#m.Outbox.updateMany(
          { status: 'pending', leaseOwner: owner, $or: effects.map((e) => ({ runId: e.runId, seq: e.seq })) },
          { $set: { leaseUntil } },
        );
        return r.modifiedCount;
      }),
    complete: (runId, seq, result, at, outcome, message) =>
      guard(() =>
        this.tx(async (session): Promise<ConversationMessage | undefined> => {
          const r = await this.#m.Outbox.updateOne(
            { runId, seq, status: 'pending' },
            { $set: { status: 'done', completedAt: at, result }, $unset: { leaseOwner: 1, leaseUntil: 1 } },
            { session },
          );
          if (r.matchedCount === 0) {
            await this.assertOutbox(runId, seq, session);
            return undefined;
          }
          if (outcome) await this.appendJournal(outcome, session);
          return message && this.appendMessageIn(message, session);
        }),
      ),
    fail: (runId, seq, error, retryAt, at, outcome) =>
      guard(() =>
        this.tx(async (session) => {
          const update =
            retryAt !== undefined
              ? { $set: { availableAt: retryAt, lastError: error }, $unset: { leaseOwner: 1, leaseUntil: 1 } }
              : { $set: { status: 'failed', completedAt: at, lastError: error }, $unset: { leaseOwner: 1, leaseUntil: 1 } };
          const r = await this.#m.Outbox.updateOne({ runId, seq, status: 'pending' }, update, { session });
          if (r.matchedCount === 0) return this.assertOutbox(runId, seq, session);
          if (retryAt === undefined && outcome) await this.appendJournal(outcome, session);
        }),
      ),
    get: (runId, seq) =>
      guard(async () => {
        const doc = await this.#m.Outbox.findOne({ runId, seq }).lean<OutboxDoc>();
        return doc ? toOutbox(doc) : undefined;
      }),
    countPending: () => guard(() => this.#m.Outbox.countDocuments({ status: 'pending' })),
  };

  private async assertOutbox(runId: string, seq: number, session: ClientSession): Promise<void> {
    if (!(await this.#m.Outbox.exists({ runId, seq }).session(session))) {
      throw new StorageError('NOT_FOUND', `Outbox entry ${runId}:${seq} not found`);
    }
  }

  /**
   * Appends a message inside a transaction. A concurrent insert of the same key fails the
   * transaction (duplicate key) rather than being read back: the caller's retry then finds it.
   */
  private async appendMessageIn(m: Omit<ConversationMessage, 'seq'>, session: ClientSession): Promise<ConversationMessage> {
    const existing = await this.#m.Message.findOne({ workspaceId: m.workspaceId, idempotencyKey: m.idempotencyKey })
      .session(session)
      .lean<MessageDoc>();
    if (existing) return toMessage(existing);
    const doc: MessageDoc = { ...m, seq: await this.nextSeq('messages', session) };
    await this.#m.Message.create([doc], { session });
    return toMessage(doc);
  }

  messages: MongoStore['messages'] = {
    append: (m) =>
      guard(async () => {
        const find = () => this.#m.Message.findOne({ workspaceId: m.workspaceId, idempotencyKey: m.idempotencyKey }).lean<MessageDoc>();
        const existing = await find();
        if (existing) return toMessage(existing);
        const doc: MessageDoc = { ...m, seq: await this.nextSeq('messages') };
        try {
          await this.#m.Message.create(doc);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          const raced = await find();
          if (!raced) throw err;
          return toMessage(raced);
        }
        return toMessage(doc);
      }),
    list: (workspaceId, contactId, options = {}) =>
      guard(async () =>
        (
          await this.#m.Message.find({ workspaceId, contactId, seq: { $gt: options.afterSeq ?? 0 }, ...(options.direction ? { direction: options.direction } : {}) })
            .sort({ seq: 1 })
            .limit(pageSize(options.limit))
            .lean<MessageDoc[]>()
        ).map(toMessage),
      ),
    storedAfter: (afterSeq, limit) =>
      guard(async () => {
        // limit(0) is no limit to MongoDB; to the port (and SQLite) it is nothing.
        if (limit <= 0) return [];
        return (
          await this.#m.Message.find({ seq: { $gt: afterSeq } }, { _id: 0, seq: 1, workspaceId: 1, contactId: 1, channel: 1, direction: 1 })
            .sort({ seq: 1 })
            .limit(limit)
            .lean<StoredMessageRef[]>()
        ).map((d) => ({ seq: d.seq, workspaceId: d.workspaceId, contactId: d.contactId, channel: d.channel, direction: d.direction }));
      }),
    lastSeq: () =>
      guard(async () => (await this.#m.Message.findOne({}, { _id: 0, seq: 1 }).sort({ seq: -1 }).lean<{ seq: number }>())?.seq ?? 0),
  };

  /**
   * Leases: one atomic upsert on the key. When the lease is live and someone else's, the filter
   * misses and the upsert's insert collides with the existing key: that duplicate-key error is the
   * "no". A lease is live while `until >= now`.
   */
  leases: MongoStore['leases'] = {
    acquire: (key, owner, now, until) =>
      guard(async () => {
        try {
          const doc = await this.#m.Lease.findOneAndUpdate(
            { _id: key, $or: [{ owner }, { until: { $lt: now } }] },
            { $set: { owner, until } },
            { upsert: true, returnDocument: 'after' },
          ).lean();
          return doc !== null;
        } catch (err) {
          if (isDuplicateKey(err)) return false;
          throw err;
        }
      }),
    release: (key, owner) =>
      guard(async () => {
        await this.#m.Lease.deleteOne({ _id: key, owner });
      }),
    acquireMany: async (keys, owner, now, until) => {
      const taken = await Promise.all(keys.map((key) => this.leases.acquire(key, owner, now, until)));
      return keys.filter((_, i) => taken[i]);
    },
    releaseMany: (keys, owner) =>
      guard(async () => {
        await this.#m.Lease.deleteMany({ _id: { $in: [...keys] }, owner });
      }),
  };

  /** Same policy as the SQLite store: finished journal/outbox entries, whole step logs of ended runs, ended runs, old messages. */
  prune(policy: RetentionPolicy, now: number): Promise<PruneReport> {
    return guard(async () => {
      const report: PruneReport = { stepLog: 0, journal: 0, outbox: 0, runs: 0, messages: 0 };
      report.journal = await this.drain(this.#m.Journal, { status: { $ne: 'pending' }, processedAt: { $lt: now - policy.journalMs } });
      report.outbox = await this.drain(this.#m.Outbox, { status: { $ne: 'pending' }, completedAt: { $lt: now - policy.outboxMs } });
      for (;;) {
        const runs = await this.#m.Run.find({ endedAt: { $lt: now - policy.endedRunsMs } }, { _id: 1 }).limit(RUN_BATCH).lean<{ _id: string }[]>();
        if (runs.length === 0) break;
        const ids = runs.map((r) => r._id);
        report.stepLog += (await this.#m.StepLog.deleteMany({ runId: { $in: ids } })).deletedCount;
        report.runs += (await this.#m.Run.deleteMany({ _id: { $in: ids } })).deletedCount;
      }
      for (;;) {
        const runs = await this.#m.Run.find({ logsPruned: false, endedAt: { $lt: now - policy.stepLogMs } }, { _id: 1 })
          .limit(RUN_BATCH)
          .lean<{ _id: string }[]>();
        if (runs.length === 0) break;
        const ids = runs.map((r) => r._id);
        report.stepLog += (await this.#m.StepLog.deleteMany({ runId: { $in: ids } })).deletedCount;
        await this.#m.Run.updateMany({ _id: { $in: ids } }, { $set: { logsPruned: true } });
      }
      if (policy.messagesMs !== undefined) {
        // As on SQLite: from the oldest seq up to the first message still inside the window. A message
        // committing meanwhile got its seq now, above every seq in the range, so it is never taken.
        const cutoff = now - policy.messagesMs;
        for (;;) {
          const front = await this.#m.Message.find({}, { seq: 1, at: 1 }).sort({ seq: 1 }).limit(PRUNE_BATCH).lean<{ seq: number; at: number }[]>();
          const last = expiredThrough(front, cutoff);
          if (last === undefined) break;
          report.messages += (await this.#m.Message.deleteMany({ seq: { $lte: last } })).deletedCount;
        }
      }
      return report;
    });
  }

  private async drain<T>(model: mongoose.Model<T>, filter: mongoose.QueryFilter<T>): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await model.find(filter, { _id: 1 }).limit(PRUNE_BATCH).lean<{ _id: unknown }[]>();
      if (batch.length === 0) return total;
      total += (await model.deleteMany({ _id: { $in: batch.map((d) => d._id) } })).deletedCount;
    }
  }
}
