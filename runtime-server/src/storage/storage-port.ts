import type {
  Effect,
  FlowDefinition,
  JsonObject,
  PathStep,
  RunSnapshot,
  RunWaiting,
} from '@convoflow/engine';

/**
 * The storage port: everything the runtime persists, behind one interface with two adapters
 * (SQLite, the embedded default, and MongoDB through mongoose) that pass one contract test suite.
 *
 * Conventions: ids are strings chosen by the caller where the caller needs them before the write
 * (runs, journal entries) and by the store otherwise; times are epoch milliseconds; every record
 * belongs to a workspace and every read that can cross workspaces takes the workspace id.
 */

export type Role = 'admin' | 'team_admin' | 'staff';

export interface Workspace {
  id: string;
  name: string;
  createdAt: number;
  settings: WorkspaceSettings;
}

export interface WorkspaceSettings {
  /** Keywords that interrupt a waiting run in flows that honour them (matched case-insensitively). */
  interruptKeywords: string[];
  /** Lets the HTTP-request node call private, loopback and link-local addresses. */
  allowPrivateNetwork: boolean;
  /** IANA time zone used for business hours and reports. */
  timezone: string;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string;
  role: Role;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  keyHash: string;
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  createdAt: number;
  revokedAt?: number;
}

export interface FlowRecord {
  id: string;
  workspaceId: string;
  name: string;
  draft: FlowDefinition;
  /** Incremented by every draft update; updates name the revision they were based on. */
  revision: number;
  /** The published version new runs start on, if any. */
  activeVersion?: number;
  /** The highest version number ever published. */
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
}

export interface FlowVersionRecord {
  workspaceId: string;
  flowId: string;
  version: number;
  definition: FlowDefinition;
  publishedAt: number;
  publishedBy: string;
}

/** A flow without its draft. */
export type FlowSummary = Omit<FlowRecord, 'draft'>;

/** A published version without its definition. */
export type FlowVersionSummary = Omit<FlowVersionRecord, 'definition'>;

export interface ContactChannelIdentity {
  channel: string;
  externalId: string;
}

export interface ContactRecord {
  id: string;
  workspaceId: string;
  /** Default and custom attributes: name, phone, email, and workspace-defined fields. */
  fields: JsonObject;
  identities: ContactChannelIdentity[];
  createdAt: number;
  updatedAt: number;
}

export type StoredRunStatus = 'running' | 'waiting' | 'done' | 'failed' | 'cancelled';

export interface RunRecord {
  id: string;
  workspaceId: string;
  flowId: string;
  flowVersion: number;
  contactId: string;
  triggerId: string;
  /** The channel the conversation is on (the trigger message's), when there is one. */
  channel?: string;
  status: StoredRunStatus;
  waiting?: RunWaiting;
  snapshot: RunSnapshot;
  /** Number of steps committed; the next step log entry gets this number. */
  stepCount: number;
  error?: { code: string; message: string; nodeId?: string };
  /** Node the run was in when it failed, for retry-from-failed-node. */
  failedNodeId?: string;
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
}

/** A run without its snapshot, as lists show it. */
export type RunSummary = Omit<RunRecord, 'snapshot'>;

export interface StepLogEntry {
  runId: string;
  workspaceId: string;
  stepNo: number;
  at: number;
  /** The event type that caused the step (`run.started` for the first). */
  event: string;
  path: PathStep[];
  /** Effect types with seq, e.g. `sendMessage#3`. */
  effects: string[];
  status: StoredRunStatus;
  error?: { code: string; message: string; nodeId?: string };
}

export type JournalKind = 'message' | 'webhook' | 'api' | 'contact' | 'timer' | 'schedule' | 'effect' | 'control';
export type JournalStatus = 'pending' | 'processed' | 'failed';

/**
 * An inbound event, journaled before it is acknowledged. Entries of one `orderingKey` (usually
 * workspace + contact) are processed in `seq` order, one at a time.
 */
export interface JournalEntry {
  /** Global insertion order, assigned by the store. */
  seq: number;
  id: string;
  workspaceId: string;
  kind: JournalKind;
  /** channel + provider message id, or another key that makes redelivery harmless. */
  dedupeKey: string;
  orderingKey: string;
  payload: JsonObject;
  receivedAt: number;
  status: JournalStatus;
  attempts: number;
  processedAt?: number;
  error?: string;
}

/**
 * Builds the journal entry that announces a contact change (fires contact triggers), given the
 * contact as written and the fields that changed. The store writes it in the transaction of the
 * change: a contact is never created or changed without its announcement, nor announced unwritten.
 */
export type ContactAnnouncement = (contact: ContactRecord, changedFields: string[]) => Omit<JournalEntry, 'seq' | 'status' | 'attempts'>;

export type OutboxStatus = 'pending' | 'done' | 'failed';

/** An effect waiting to be performed; its idempotency key is `runId:effect.seq`. */
export interface OutboxEntry {
  runId: string;
  workspaceId: string;
  seq: number;
  effect: Effect;
  status: OutboxStatus;
  attempts: number;
  /** Not before this time (retries back off). */
  availableAt: number;
  leaseOwner?: string;
  leaseUntil?: number;
  createdAt: number;
  completedAt?: number;
  result?: JsonObject;
  /** Why the last attempt failed, for operators looking at a retried or failed effect. */
  lastError?: string;
}

/** The effects of the kinds a claim asks for that each workspace holds, and how many it may. */
export interface WorkspaceShares {
  /** Effects one workspace may hold at once, those it holds already included. */
  max: number;
  /** Effects each workspace holds now, by workspace id (absent: none). */
  held: ReadonlyMap<string, number>;
}

/** Everything one engine step writes, committed atomically or not at all. */
export interface StepCommit {
  /** The run as it is after the step. Inserted when `isNew`, else updated. */
  run: RunRecord;
  isNew: boolean;
  /** Who holds the run's ordering lease; the commit fails with a StorageError if it lost it. */
  leaseOwner: string;
  leaseKey: string;
  /** Releases that lease in the same transaction: the caller has no more work for the key. */
  releaseLease?: boolean;
  /**
   * One entry per step, in order. Several when the runtime carried the run past sends it recorded
   * itself (a channel whose delivery is the record, like the simulator) before committing.
   */
  stepLogs: StepLogEntry[];
  /** Effects for the outbox: the ones performed outside this transaction. */
  effects: Effect[];
  /** Journal entry this step consumed, marked processed in the same transaction. */
  journalEntryId?: string;
  /** Contact fields the step changed. */
  contactChanges?: { contactId: string; fields: JsonObject };
  /**
   * Conversation messages to append in the same transaction, in order, as `messages.append` would:
   * the inbound message the consumed journal entry carried, and outbound ones the steps delivered
   * by recording them.
   */
  messages?: Omit<ConversationMessage, 'seq'>[];
}

/** When a commit's last step happened: the time its outbox rows, journal mark and contact changes carry. */
export function lastStepAt(commit: StepCommit): number {
  const last = commit.stepLogs.at(-1);
  if (!last) throw new TypeError(`The commit of run ${commit.run.id} has no step log entry`);
  return last.at;
}

export type MessageDirection = 'inbound' | 'outbound';

/**
 * One message of a conversation, either way. Outbound ones are written by the effect executor with
 * the effect's idempotency key, so a retried send is recorded once. The simulator channel's
 * transcript and, later, the inbox read from here.
 */
/** Where a message was stored, without what it says: see `messages.storedAfter`. */
export type StoredMessageRef = Pick<ConversationMessage, 'seq' | 'workspaceId' | 'contactId' | 'channel' | 'direction'>;

export interface ConversationMessage {
  /** Insertion order, assigned by the store. */
  seq: number;
  workspaceId: string;
  contactId: string;
  channel: string;
  direction: MessageDirection;
  message: JsonObject;
  runId?: string;
  nodeId?: string;
  /** For outbound: `runId:seq`. For inbound: the journal dedupe key. Unique per workspace. */
  idempotencyKey: string;
  at: number;
}

export interface RetentionPolicy {
  /** Step log entries of ended runs older than this are deleted. */
  stepLogMs: number;
  /** Processed journal entries older than this are deleted. */
  journalMs: number;
  /** Completed outbox entries older than this are deleted. */
  outboxMs: number;
  /** Ended runs older than this are deleted with their logs. */
  endedRunsMs: number;
  /**
   * Conversation messages (inbound and outbound) stored longer ago than this are deleted; absent,
   * they are kept for good. Taken oldest first in the order they were stored, up to the first one
   * still inside the window.
   */
  messagesMs?: number;
}

export interface PruneReport {
  stepLog: number;
  journal: number;
  outbox: number;
  runs: number;
  messages: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page, absent on the last. */
  next?: string;
}

export interface RunFilter {
  flowId?: string;
  contactId?: string;
  status?: StoredRunStatus;
  limit?: number;
  cursor?: string;
}

/** Which version of a flow is active. */
export interface ActiveVersionId {
  flowId: string;
  version: number;
}

export interface StoragePort {
  readonly kind: 'sqlite' | 'mongo';
  /** Applies pending migrations; safe to call at every start. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  workspaces: {
    create(input: { id?: string; name: string; settings?: Partial<WorkspaceSettings> }): Promise<Workspace>;
    get(id: string): Promise<Workspace | undefined>;
    list(): Promise<Workspace[]>;
    updateSettings(id: string, settings: Partial<WorkspaceSettings>): Promise<Workspace>;
  };

  apiKeys: {
    insert(record: ApiKeyRecord): Promise<void>;
    findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
    list(workspaceId: string): Promise<ApiKeyRecord[]>;
    /**
     * Revokes an active key, atomically refusing to revoke the workspace's last active admin key
     * (which would leave nobody able to manage keys or publish): `last_admin`, nothing written.
     * `not_found` when the workspace has no active key with this id.
     */
    revoke(workspaceId: string, id: string, at: number): Promise<'revoked' | 'not_found' | 'last_admin'>;
  };

  flows: {
    create(input: { workspaceId: string; draft: FlowDefinition; at: number }): Promise<FlowRecord>;
    get(workspaceId: string, id: string): Promise<FlowRecord | undefined>;
    /** The workspace's flows, oldest first, without their drafts (read one with `get`). */
    list(workspaceId: string): Promise<FlowSummary[]>;
    /** Replaces the draft if `expectedRevision` matches; returns undefined on a revision conflict. */
    updateDraft(
      workspaceId: string,
      id: string,
      draft: FlowDefinition,
      expectedRevision: number,
      at: number,
    ): Promise<FlowRecord | undefined>;
    delete(workspaceId: string, id: string): Promise<boolean>;
    /** Stores the draft as the next immutable version and makes it active, atomically. */
    publish(workspaceId: string, id: string, publishedBy: string, at: number): Promise<FlowVersionRecord>;
    /** The flow's versions, oldest first, without their definitions (read one with `getVersion`). */
    listVersions(workspaceId: string, id: string): Promise<FlowVersionSummary[]>;
    getVersion(workspaceId: string, id: string, version: number): Promise<FlowVersionRecord | undefined>;
    /** Makes an existing version the active one (rollback). */
    activate(workspaceId: string, id: string, version: number, at: number): Promise<FlowRecord | undefined>;
    /** Active versions of every flow with an active version, for the trigger router. */
    listActive(workspaceId?: string): Promise<FlowVersionRecord[]>;
    /**
     * The flow and version of each version `listActive(workspaceId)` returns, in the same order,
     * without reading their definitions: how the trigger router sees cheaply whether they changed.
     */
    listActiveVersionIds(workspaceId: string): Promise<ActiveVersionId[]>;
  };

  contacts: {
    /**
     * Finds the contact with this channel identity or creates it, atomically; `announce` is written
     * with a contact it creates (see ContactAnnouncement).
     */
    upsertByIdentity(
      workspaceId: string,
      identity: ContactChannelIdentity,
      fields: JsonObject,
      at: number,
      announce?: ContactAnnouncement,
    ): Promise<{ contact: ContactRecord; created: boolean }>;
    findByIdentity(workspaceId: string, identity: ContactChannelIdentity): Promise<ContactRecord | undefined>;
    create(
      workspaceId: string,
      fields: JsonObject,
      identities: ContactChannelIdentity[],
      at: number,
      announce?: ContactAnnouncement,
    ): Promise<ContactRecord>;
    get(workspaceId: string, id: string): Promise<ContactRecord | undefined>;
    list(workspaceId: string, options?: { limit?: number; cursor?: string }): Promise<Page<ContactRecord>>;
    /**
     * Merges `fields` into the contact's fields; returns the fields that actually changed. When some
     * did, `announce` is written with the change.
     */
    update(
      workspaceId: string,
      id: string,
      fields: JsonObject,
      at: number,
      announce?: ContactAnnouncement,
    ): Promise<{ contact: ContactRecord; changed: string[] } | undefined>;
  };

  runs: {
    get(workspaceId: string, id: string): Promise<RunRecord | undefined>;
    /** A page of runs, newest first, without their snapshots (up to ~2 MB each: read one with `get`). */
    list(workspaceId: string, filter: RunFilter): Promise<Page<RunSummary>>;
    /** Runs of the contact that are not ended (running or waiting), oldest first. */
    listActiveForContact(workspaceId: string, contactId: string): Promise<RunRecord[]>;
    /**
     * The run's step log in step order: all of it, or, with `options`, at most `limit` entries
     * after step number `afterStepNo` (a page; pass the last one's `stepNo` for the next).
     */
    stepLog(runId: string, options?: { afterStepNo?: number; limit?: number }): Promise<StepLogEntry[]>;
    countByStatus(workspaceId?: string): Promise<Record<StoredRunStatus, number>>;
  };

  /** Atomic commit of one step: run, step log, outbox, journal entry consumed, contact changes. */
  commitStep(commit: StepCommit): Promise<void>;
  /**
   * Several step commits, each all-or-nothing on its own (SQLite writes them in one transaction, a
   * savepoint each). Resolves, per commit and in order, to undefined when it was written or to the
   * error that stopped it (say StorageError `LEASE_LOST`); the others are written regardless.
   */
  commitSteps(commits: StepCommit[]): Promise<(Error | undefined)[]>;

  journal: {
    /** Inserts unless the dedupe key exists; `inserted` false means a redelivery. */
    append(entry: Omit<JournalEntry, 'seq' | 'status' | 'attempts'>): Promise<{ inserted: boolean; entry: JournalEntry }>;
    /**
     * Oldest pending entry of each ordering key whose lease (the lease named by the ordering key
     * itself, see `leases`) is not live at `now`, oldest first. Workspaces take turns: when several
     * have pending entries, each one's oldest head comes before any workspace's second, so a
     * backlog in one workspace does not hold up another's. (With more such workspaces than
     * `limit`, SQLite serves them in rotation from one call to the next.)
     */
    nextPending(limit: number, now: number): Promise<JournalEntry[]>;
    pendingForKey(orderingKey: string, limit: number): Promise<JournalEntry[]>;
    /** `pendingForKey` for several keys at once (SQLite: one query); a key with none is absent. */
    pendingForKeys(orderingKeys: readonly string[], limit: number): Promise<Map<string, JournalEntry[]>>;
    markProcessed(id: string, at: number): Promise<void>;
    markFailed(id: string, error: string, at: number): Promise<void>;
    countPending(): Promise<number>;
  };

  outbox: {
    /**
     * Leases up to `limit` due pending effects for `owner` until `leaseUntil`. With `types`, only
     * effects of those types: the runtime claims each kind of work for its own pool of slots, so
     * slow calls out never hold up quick local work.
     *
     * Workspaces take turns: each workspace's longest-due effect comes before any workspace's
     * second, and within a turn the longest due first, so one workspace's backlog (a broadcast's
     * sends, calls to a slow remote) never holds up another's work. With `shares`, a workspace
     * holding more effects has its turns later, and none is given more than `shares.max` in all.
     * (With more such workspaces than `limit`, they are served in rotation from one call to the
     * next.)
     */
    claim(
      owner: string,
      limit: number,
      now: number,
      leaseUntil: number,
      types?: readonly Effect['type'][],
      shares?: WorkspaceShares,
    ): Promise<OutboxEntry[]>;
    /**
     * Extends to `leaseUntil` the leases `owner` holds on these pending effects (those still
     * running): an effect that outlives its lease would be claimed and performed again. Returns
     * how many it extended; an effect finished, or claimed by another owner, is left alone.
     */
    renew(owner: string, effects: ReadonlyArray<{ runId: string; seq: number }>, leaseUntil: number): Promise<number>;
    /**
     * Marks the effect done and, in the same transaction, journals its outcome as the event that
     * feeds it back to the run (a duplicate `outcome.dedupeKey` is not journaled twice) and appends
     * `message` (a send's outbound conversation message) as `messages.append` would. Resolves to the
     * stored message when one was given and the entry was still pending, else undefined.
     */
    complete(
      runId: string,
      seq: number,
      result: JsonObject,
      at: number,
      outcome?: Omit<JournalEntry, 'seq' | 'status' | 'attempts'>,
      message?: Omit<ConversationMessage, 'seq'>,
    ): Promise<ConversationMessage | undefined>;
    /**
     * Records a failed attempt. With `retryAt` it becomes pending again then; without, it is failed
     * for good and `outcome` (the node.failed event) is journaled in the same transaction.
     */
    fail(
      runId: string,
      seq: number,
      error: string,
      retryAt: number | undefined,
      at: number,
      outcome?: Omit<JournalEntry, 'seq' | 'status' | 'attempts'>,
    ): Promise<void>;
    get(runId: string, seq: number): Promise<OutboxEntry | undefined>;
    countPending(): Promise<number>;
  };

  messages: {
    /** Appends unless the idempotency key exists; returns the stored message either way. */
    append(message: Omit<ConversationMessage, 'seq'>): Promise<ConversationMessage>;
    /**
     * Messages of a contact after `afterSeq` (only those of `direction` when given), oldest first.
     * Resolves once they are durable: a message a step recorded is not shown before it, and the
     * event that caused it, would survive a power loss.
     */
    list(
      workspaceId: string,
      contactId: string,
      options?: { afterSeq?: number; limit?: number; direction?: ConversationMessage['direction'] },
    ): Promise<ConversationMessage[]>;
    /**
     * Which conversations got messages after `afterSeq`, in every workspace, oldest first: how a
     * process learns of messages other processes stored (to wake its readers). On MongoDB a message
     * may commit after one with a greater seq, so a reader polling this can miss it: a hint, not a log.
     */
    storedAfter(afterSeq: number, limit: number): Promise<StoredMessageRef[]>;
    /** The greatest seq stored so far (0 when there is none). */
    lastSeq(): Promise<number>;
  };

  /** Expiring leases: ordering keys (one contact's events) and runs. */
  leases: {
    /** Takes or renews the lease if it is free, expired or already ours. */
    acquire(key: string, owner: string, now: number, until: number): Promise<boolean>;
    release(key: string, owner: string): Promise<void>;
    /** `acquire` for several keys at once (SQLite: one transaction); the keys taken, in the given order. */
    acquireMany(keys: readonly string[], owner: string, now: number, until: number): Promise<string[]>;
    /** Releases those of `keys` that `owner` holds. */
    releaseMany(keys: readonly string[], owner: string): Promise<void>;
  };

  prune(policy: RetentionPolicy, now: number): Promise<PruneReport>;
}
