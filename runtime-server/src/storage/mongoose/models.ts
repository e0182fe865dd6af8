import { Schema, type Connection, type Model } from 'mongoose';
import type { Effect, FlowDefinition, JsonObject, PathStep, RunSnapshot, RunWaiting } from '@convoflow/engine';
import type {
  ContactChannelIdentity,
  JournalKind,
  JournalStatus,
  MessageDirection,
  OutboxStatus,
  Role,
  StoredRunStatus,
  WorkspaceSettings,
} from '../storage-port.js';

/**
 * Document shapes and collections of the MongoDB store, with their indexes. Records whose id the
 * port names (workspaces, API keys, contacts, runs, journal entries, leases) use it as `_id`; the
 * others get an ObjectId and a unique compound index on their natural key.
 * @internal
 */

type RunError = { code: string; message: string; nodeId?: string };

export interface WorkspaceDoc {
  _id: string;
  name: string;
  createdAt: number;
  settings: WorkspaceSettings;
}
export interface ApiKeyDoc {
  _id: string;
  workspaceId: string;
  name: string;
  role: Role;
  keyHash: string;
  prefix: string;
  createdAt: number;
  revokedAt?: number;
}
export interface FlowDoc {
  workspaceId: string;
  flowId: string;
  name: string;
  draft: FlowDefinition;
  revision: number;
  activeVersion?: number;
  latestVersion: number;
  createdAt: number;
  updatedAt: number;
  deletedAt?: number;
}
export interface FlowVersionDoc {
  workspaceId: string;
  flowId: string;
  version: number;
  definition: FlowDefinition;
  publishedAt: number;
  publishedBy: string;
}
export interface ContactDoc {
  _id: string;
  workspaceId: string;
  fields: JsonObject;
  identities: ContactChannelIdentity[];
  createdAt: number;
  updatedAt: number;
}
export interface ContactIdentityDoc {
  workspaceId: string;
  channel: string;
  externalId: string;
  contactId: string;
}
export interface RunDoc {
  _id: string;
  workspaceId: string;
  flowId: string;
  flowVersion: number;
  contactId: string;
  triggerId: string;
  channel?: string;
  status: StoredRunStatus;
  waiting?: RunWaiting;
  snapshot: RunSnapshot;
  stepCount: number;
  error?: RunError;
  failedNodeId?: string;
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  /** Set once retention deleted the run's step log. */
  logsPruned: boolean;
}
export interface StepLogDoc {
  runId: string;
  workspaceId: string;
  stepNo: number;
  at: number;
  event: string;
  path: PathStep[];
  effects: string[];
  status: StoredRunStatus;
  error?: RunError;
}
export interface JournalDoc {
  _id: string;
  seq: number;
  workspaceId: string;
  kind: JournalKind;
  dedupeKey: string;
  orderingKey: string;
  payload: JsonObject;
  receivedAt: number;
  status: JournalStatus;
  attempts: number;
  processedAt?: number;
  error?: string;
}
export interface OutboxDoc {
  runId: string;
  seq: number;
  workspaceId: string;
  effect: Effect;
  status: OutboxStatus;
  attempts: number;
  availableAt: number;
  leaseOwner?: string;
  leaseUntil?: number;
  createdAt: number;
  completedAt?: number;
  result?: JsonObject;
  lastError?: string;
}
export interface LeaseDoc {
  _id: string;
  owner: string;
  until: number;
  /** Bumped by every commit under the lease, so a concurrent takeover conflicts with the commit. */
  commits?: number;
}
export interface MessageDoc {
  seq: number;
  workspaceId: string;
  contactId: string;
  channel: string;
  direction: MessageDirection;
  message: JsonObject;
  runId?: string;
  nodeId?: string;
  idempotencyKey: string;
  at: number;
}
export interface CounterDoc {
  _id: string;
  seq: number;
}
export interface MetaDoc {
  _id: string;
  version: number;
  appliedAt: number;
}

const Mixed = Schema.Types.Mixed;
// minimize: false keeps empty objects (an empty `fields` or `payload` is still an object);
// versionKey: false because the store does its own concurrency control.
const options = { minimize: false, versionKey: false, strict: true } as const;

const workspaceSchema = new Schema(
  { _id: String, name: { type: String, required: true }, createdAt: Number, settings: { type: Mixed, required: true } },
  options,
);

const apiKeySchema = new Schema(
  {
    _id: String,
    workspaceId: { type: String, required: true },
    name: String,
    role: String,
    keyHash: { type: String, required: true },
    prefix: String,
    createdAt: Number,
    revokedAt: Number,
  },
  options,
);
apiKeySchema.index({ keyHash: 1 }, { unique: true });
apiKeySchema.index({ workspaceId: 1, createdAt: 1 });

const flowSchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    flowId: { type: String, required: true },
    name: String,
    draft: { type: Mixed, required: true },
    revision: Number,
    activeVersion: Number,
    latestVersion: Number,
    createdAt: Number,
    updatedAt: Number,
    deletedAt: Number,
  },
  options,
);
flowSchema.index({ workspaceId: 1, flowId: 1 }, { unique: true });

const flowVersionSchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    flowId: { type: String, required: true },
    version: { type: Number, required: true },
    definition: { type: Mixed, required: true },
    publishedAt: Number,
    publishedBy: String,
  },
  options,
);
flowVersionSchema.index({ workspaceId: 1, flowId: 1, version: 1 }, { unique: true });

const contactSchema = new Schema(
  {
    _id: String,
    workspaceId: { type: String, required: true },
    fields: { type: Mixed, required: true },
    identities: { type: Mixed, required: true },
    createdAt: Number,
    updatedAt: Number,
  },
  options,
);
contactSchema.index({ workspaceId: 1, createdAt: -1, _id: -1 });

const contactIdentitySchema = new Schema(
  {
    workspaceId: { type: String, required: true },
    channel: { type: String, required: true },
    externalId: { type: String, required: true },
    contactId: { type: String, required: true },
  },
  options,
);
contactIdentitySchema.index({ workspaceId: 1, channel: 1, externalId: 1 }, { unique: true });

const runSchema = new Schema(
  {
    _id: String,
    workspaceId: { type: String, required: true },
    flowId: String,
    flowVersion: Number,
    contactId: String,
    triggerId: String,
    channel: String,
    status: String,
    waiting: Mixed,
    snapshot: { type: Mixed, required: true },
    stepCount: Number,
    error: Mixed,
    failedNodeId: String,
    createdAt: Number,
    updatedAt: Number,
    endedAt: Number,
    logsPruned: { type: Boolean, default: false },
  },
  options,
);
runSchema.index({ workspaceId: 1, createdAt: -1, _id: -1 });
runSchema.index({ workspaceId: 1, status: 1, createdAt: -1, _id: -1 });
runSchema.index({ workspaceId: 1, flowId: 1, createdAt: -1, _id: -1 });
runSchema.index({ workspaceId: 1, flowId: 1, status: 1, createdAt: -1, _id: -1 });
runSchema.index({ workspaceId: 1, contactId: 1, createdAt: -1, _id: -1 });
// The active runs of a contact, found without walking its ended ones (every message asks).
runSchema.index({ workspaceId: 1, contactId: 1, status: 1, createdAt: 1, _id: 1 });
runSchema.index({ endedAt: 1 }, { partialFilterExpression: { endedAt: { $exists: true } } });
runSchema.index({ logsPruned: 1, endedAt: 1 }, { partialFilterExpression: { endedAt: { $exists: true } } });

const stepLogSchema = new Schema(
  {
    runId: { type: String, required: true },
    workspaceId: String,
    stepNo: { type: Number, required: true },
    at: Number,
    event: String,
    path: Mixed,
    effects: [String],
    status: String,
    error: Mixed,
  },
  options,
);
stepLogSchema.index({ runId: 1, stepNo: 1 }, { unique: true });

const journalSchema = new Schema(
  {
    _id: String,
    seq: { type: Number, required: true },
    workspaceId: { type: String, required: true },
    kind: String,
    dedupeKey: { type: String, required: true },
    orderingKey: { type: String, required: true },
    payload: { type: Mixed, required: true },
    receivedAt: Number,
    status: String,
    attempts: Number,
    processedAt: Number,
    error: String,
  },
  options,
);
journalSchema.index({ seq: 1 }, { unique: true });
journalSchema.index({ workspaceId: 1, dedupeKey: 1 }, { unique: true });
journalSchema.index({ orderingKey: 1, seq: 1 }, { partialFilterExpression: { status: 'pending' } });
journalSchema.index({ status: 1, processedAt: 1 });

const outboxSchema = new Schema(
  {
    runId: { type: String, required: true },
    seq: { type: Number, required: true },
    workspaceId: String,
    effect: { type: Mixed, required: true },
    status: String,
    attempts: Number,
    availableAt: Number,
    leaseOwner: String,
    leaseUntil: Number,
    createdAt: Number,
    completedAt: Number,
    result: Mixed,
    lastError: String,
  },
  options,
);
outboxSchema.index({ runId: 1, seq: 1 }, { unique: true });
// claim sorts on (availableAt, _id): the index must hold both, or every claim sorts the whole backlog.
outboxSchema.index({ availableAt: 1, _id: 1 }, { partialFilterExpression: { status: 'pending' } });
// The claim of one effect lane, by turns: per type, the workspaces with pending effects (one seek
// each), then each one's due effects in due order (no blocking sort).
outboxSchema.index({ 'effect.type': 1, workspaceId: 1, availableAt: 1, _id: 1 }, { partialFilterExpression: { status: 'pending' } });
outboxSchema.index({ status: 1, completedAt: 1 });
/** Indexes earlier versions made that none of today's queries use, by collection: `migrate()` drops them. */
export const OBSOLETE_INDEXES: Readonly<Record<string, readonly string[]>> = {
  outbox: ['effect.type_1_availableAt_1__id_1'],
};

const leaseSchema = new Schema(
  { _id: String, owner: { type: String, required: true }, until: Number, commits: Number },
  options,
);

const messageSchema = new Schema(
  {
    seq: { type: Number, required: true },
    workspaceId: { type: String, required: true },
    contactId: String,
    channel: String,
    direction: String,
    message: { type: Mixed, required: true },
    runId: String,
    nodeId: String,
    idempotencyKey: { type: String, required: true },
    at: Number,
  },
  options,
);
messageSchema.index({ workspaceId: 1, idempotencyKey: 1 }, { unique: true });
messageSchema.index({ workspaceId: 1, contactId: 1, seq: 1 });
// messages.storedAfter: every workspace's newest messages.
messageSchema.index({ seq: 1 });

const counterSchema = new Schema({ _id: String, seq: Number }, options);
const metaSchema = new Schema({ _id: String, version: Number, appliedAt: Number }, options);

/** The models of one connection. @internal */
export interface Models {
  Workspace: Model<WorkspaceDoc>;
  ApiKey: Model<ApiKeyDoc>;
  Flow: Model<FlowDoc>;
  FlowVersion: Model<FlowVersionDoc>;
  Contact: Model<ContactDoc>;
  ContactIdentity: Model<ContactIdentityDoc>;
  Run: Model<RunDoc>;
  StepLog: Model<StepLogDoc>;
  Journal: Model<JournalDoc>;
  Outbox: Model<OutboxDoc>;
  Lease: Model<LeaseDoc>;
  Message: Model<MessageDoc>;
  Counter: Model<CounterDoc>;
  Meta: Model<MetaDoc>;
}

/** Registers the models on a connection, with explicit collection names. @internal */
export function defineModels(conn: Connection): Models {
  return {
    Workspace: conn.model<WorkspaceDoc>('Workspace', workspaceSchema, 'workspaces'),
    ApiKey: conn.model<ApiKeyDoc>('ApiKey', apiKeySchema, 'api_keys'),
    Flow: conn.model<FlowDoc>('Flow', flowSchema, 'flows'),
    FlowVersion: conn.model<FlowVersionDoc>('FlowVersion', flowVersionSchema, 'flow_versions'),
    Contact: conn.model<ContactDoc>('Contact', contactSchema, 'contacts'),
    ContactIdentity: conn.model<ContactIdentityDoc>('ContactIdentity', contactIdentitySchema, 'contact_identities'),
    Run: conn.model<RunDoc>('Run', runSchema, 'runs'),
    StepLog: conn.model<StepLogDoc>('StepLog', stepLogSchema, 'step_log'),
    Journal: conn.model<JournalDoc>('Journal', journalSchema, 'journal'),
    Outbox: conn.model<OutboxDoc>('Outbox', outboxSchema, 'outbox'),
    Lease: conn.model<LeaseDoc>('Lease', leaseSchema, 'leases'),
    Message: conn.model<MessageDoc>('Message', messageSchema, 'messages'),
    Counter: conn.model<CounterDoc>('Counter', counterSchema, 'counters'),
    Meta: conn.model<MetaDoc>('Meta', metaSchema, 'schema_meta'),
  };
}
