import type { Effect, FlowDefinition, JsonObject, PathStep, RunSnapshot, RunWaiting } from '@convoflow/engine';
import type {
  ApiKeyRecord,
  ContactChannelIdentity,
  ContactRecord,
  ConversationMessage,
  FlowRecord,
  FlowSummary,
  FlowVersionRecord,
  FlowVersionSummary,
  RunSummary,
  JournalEntry,
  JournalKind,
  JournalStatus,
  MessageDirection,
  OutboxStatus,
  Role,
  RunRecord,
  StepLogEntry,
  StoredRunStatus,
  Workspace,
  WorkspaceSettings,
} from '../storage-port.js';
import type { StoredOutboxEntry } from '../store-helpers.js';

/**
 * Row shapes of the SQLite tables and their mapping to port records. JSON columns are TEXT and
 * parsed here, once per read; optional fields are left out rather than set to undefined.
 * @internal
 */

export interface WorkspaceRow {
  id: string;
  name: string;
  created_at: number;
  settings: string;
}
export interface ApiKeyRow {
  id: string;
  workspace_id: string;
  name: string;
  role: string;
  key_hash: string;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}
export interface FlowRow {
  workspace_id: string;
  id: string;
  name: string;
  draft: string;
  revision: number;
  active_version: number | null;
  latest_version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}
export interface FlowVersionRow {
  workspace_id: string;
  flow_id: string;
  version: number;
  definition: string;
  published_at: number;
  published_by: string;
}
export interface ContactRow {
  id: string;
  workspace_id: string;
  fields: string;
  identities: string;
  created_at: number;
  updated_at: number;
}
export interface RunRow {
  id: string;
  workspace_id: string;
  flow_id: string;
  flow_version: number;
  contact_id: string;
  trigger_id: string;
  channel: string | null;
  status: string;
  waiting: string | null;
  snapshot: string;
  step_count: number;
  error: string | null;
  failed_node_id: string | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
}
export interface StepLogRow {
  run_id: string;
  step_no: number;
  workspace_id: string;
  at: number;
  event: string;
  path: string;
  effects: string;
  status: string;
  error: string | null;
}
export interface JournalRow {
  seq: number;
  id: string;
  workspace_id: string;
  kind: string;
  dedupe_key: string;
  ordering_key: string;
  payload: string;
  received_at: number;
  status: string;
  attempts: number;
  processed_at: number | null;
  error: string | null;
}
export interface OutboxRow {
  run_id: string;
  seq: number;
  workspace_id: string;
  effect: string;
  status: string;
  attempts: number;
  available_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  created_at: number;
  completed_at: number | null;
  result: string | null;
  last_error: string | null;
}
export interface MessageRow {
  seq: number;
  workspace_id: string;
  contact_id: string;
  channel: string;
  direction: string;
  message: string;
  run_id: string | null;
  node_id: string | null;
  idempotency_key: string;
  at: number;
}


type RunError = NonNullable<RunRecord['error']>;

export const toWorkspace = (row: WorkspaceRow): Workspace => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  settings: JSON.parse(row.settings) as WorkspaceSettings,
});

export function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  const record: ApiKeyRecord = {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    role: row.role as Role,
    keyHash: row.key_hash,
    prefix: row.prefix,
    createdAt: row.created_at,
  };
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at;
  return record;
}

export function toFlowSummary(row: Omit<FlowRow, 'draft'>): FlowSummary {
  const summary: FlowSummary = {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    revision: row.revision,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.active_version !== null) summary.activeVersion = row.active_version;
  return summary;
}

export const toFlow = (row: FlowRow): FlowRecord => ({ ...toFlowSummary(row), draft: JSON.parse(row.draft) as FlowDefinition });

export const toFlowVersionSummary = (row: Omit<FlowVersionRow, 'definition'>): FlowVersionSummary => ({
  workspaceId: row.workspace_id,
  flowId: row.flow_id,
  version: row.version,
  publishedAt: row.published_at,
  publishedBy: row.published_by,
});

export const toFlowVersion = (row: FlowVersionRow): FlowVersionRecord => ({
  workspaceId: row.workspace_id,
  flowId: row.flow_id,
  version: row.version,
  definition: JSON.parse(row.definition) as FlowDefinition,
  publishedAt: row.published_at,
  publishedBy: row.published_by,
});

export const toContact = (row: ContactRow): ContactRecord => ({
  id: row.id,
  workspaceId: row.workspace_id,
  fields: JSON.parse(row.fields) as JsonObject,
  identities: JSON.parse(row.identities) as ContactChannelIdentity[],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const toRun = (row: RunRow): RunRecord => ({ ...toRunSummary(row), snapshot: JSON.parse(row.snapshot) as RunSnapshot });

export function toRunSummary(row: Omit<RunRow, 'snapshot'>): RunSummary {
  const record: RunSummary = {
    id: row.id,
    workspaceId: row.workspace_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    contactId: row.contact_id,
    triggerId: row.trigger_id,
    status: row.status as StoredRunStatus,
    stepCount: row.step_count,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.channel !== null) record.channel = row.channel;
  if (row.waiting !== null) record.waiting = JSON.parse(row.waiting) as RunWaiting;
  if (row.error !== null) record.error = JSON.parse(row.error) as RunError;
  if (row.failed_node_id !== null) record.failedNodeId = row.failed_node_id;
  if (row.ended_at !== null) record.endedAt = row.ended_at;
  return record;
}

export function toStepLog(row: StepLogRow): StepLogEntry {
  const entry: StepLogEntry = {
    runId: row.run_id,
    workspaceId: row.workspace_id,
    stepNo: row.step_no,
    at: row.at,
    event: row.event,
    path: JSON.parse(row.path) as PathStep[],
    effects: JSON.parse(row.effects) as string[],
    status: row.status as StoredRunStatus,
  };
  if (row.error !== null) entry.error = JSON.parse(row.error) as RunError;
  return entry;
}

export function toJournal(row: JournalRow): JournalEntry {
  const entry: JournalEntry = {
    seq: row.seq,
    id: row.id,
    workspaceId: row.workspace_id,
    kind: row.kind as JournalKind,
    dedupeKey: row.dedupe_key,
    orderingKey: row.ordering_key,
    payload: JSON.parse(row.payload) as JsonObject,
    receivedAt: row.received_at,
    status: row.status as JournalStatus,
    attempts: row.attempts,
  };
  if (row.processed_at !== null) entry.processedAt = row.processed_at;
  if (row.error !== null) entry.error = row.error;
  return entry;
}

export function toOutbox(row: OutboxRow): StoredOutboxEntry {
  const entry: StoredOutboxEntry = {
    runId: row.run_id,
    workspaceId: row.workspace_id,
    seq: row.seq,
    effect: JSON.parse(row.effect) as Effect,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    availableAt: row.available_at,
    createdAt: row.created_at,
  };
  if (row.lease_owner !== null) entry.leaseOwner = row.lease_owner;
  if (row.lease_until !== null) entry.leaseUntil = row.lease_until;
  if (row.completed_at !== null) entry.completedAt = row.completed_at;
  if (row.result !== null) entry.result = JSON.parse(row.result) as JsonObject;
  if (row.last_error !== null) entry.lastError = row.last_error;
  return entry;
}

export function toMessage(row: MessageRow): ConversationMessage {
  const message: ConversationMessage = {
    seq: row.seq,
    workspaceId: row.workspace_id,
    contactId: row.contact_id,
    channel: row.channel,
    direction: row.direction as MessageDirection,
    message: JSON.parse(row.message) as JsonObject,
    idempotencyKey: row.idempotency_key,
    at: row.at,
  };
  if (row.run_id !== null) message.runId = row.run_id;
  if (row.node_id !== null) message.nodeId = row.node_id;
  return message;
}
