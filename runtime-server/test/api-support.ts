import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Application } from 'express';
import type { Catalogue, FlowDefinition, InboundMessage, JsonObject } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createApp, type AppConfig, type AppDeps } from '../src/app.js';
import { API_SCHEMAS } from '../src/api/schemas.js';
import { createApiKey } from '../src/auth/api-key.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics, type Metrics } from '../src/observability/metrics.js';
import type { Accepted, RuntimePort, SimulatorOutbound } from '../src/runtime/runtime-port.js';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import type { JournalKind, Role, RunRecord, StoredRunStatus } from '../src/storage/storage-port.js';

/**
 * Shared fixtures of the API tests: the real SQLite store in memory, a RuntimePort that journals
 * through that store (stand-in until the tests switch to the real runtime), and one API key per
 * role. Not a test file itself.
 */

export const EMBED_SECRET = 'test-embed-secret-0123456789abcdef-0123456789';

/** The real built-in catalogue the server ships with. */
export const testCatalogue: Catalogue = builtinCatalogue;

/** A flow the validator accepts: a webhook trigger and one end node. */
export function validFlow(id: string, overrides: Partial<FlowDefinition> = {}): FlowDefinition {
  return {
    id,
    name: `Flow ${id}`,
    triggers: [{ id: 'hook', type: 'webhook', params: { secret: 'hook-secret-0123456789' } }],
    nodes: [{ id: 'done', type: 'end', typeVersion: 1, position: { x: 0, y: 0 }, params: {} }],
    edges: [],
    variables: [],
    settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
    ...overrides,
  };
}

/**
 * A RuntimePort that journals every event in the real store (as the real runtime does first) and
 * changes runs by committing steps, but runs no flows. The simulator echoes each text back as an
 * outbound message so the transcript route has something to read.
 * TODO(lead): swap for the real runtime in the API tests once it can be built in tests.
 */
export class JournalingRuntime implements RuntimePort {
  constructor(
    private readonly store: SqliteStore,
    private readonly now: () => number,
  ) {}

  private async journal(workspaceId: string, kind: JournalKind, dedupeKey: string, orderingKey: string, payload: JsonObject): Promise<Accepted> {
    const { inserted, entry } = await this.store.journal.append({
      id: `jrn_${randomUUID()}`,
      workspaceId,
      kind,
      dedupeKey,
      orderingKey,
      payload,
      receivedAt: this.now(),
    });
    return { accepted: inserted, journalId: entry.id };
  }

  async receiveMessage(workspaceId: string, message: InboundMessage): Promise<Accepted> {
    const { contact } = await this.store.contacts.upsertByIdentity(workspaceId, { channel: message.channel, externalId: message.from }, {}, this.now());
    const accepted = await this.journal(workspaceId, 'message', `msg:${message.channel}:${message.id}`, `${workspaceId}/${contact.id}`, {
      contactId: contact.id,
      message: message as unknown as JsonObject,
    });
    if (accepted.accepted && message.channel === 'simulator' && message.text !== undefined) {
      await this.store.messages.append({
        workspaceId,
        contactId: contact.id,
        channel: 'simulator',
        direction: 'outbound',
        message: { kind: 'text', text: `echo: ${message.text}` },
        runId: 'run_echo',
        nodeId: 'echo',
        idempotencyKey: `echo:${accepted.journalId}`,
        at: this.now(),
      });
    }
    return accepted;
  }

  startByApi(workspaceId: string, flowId: string, input: { contactId: string; vars?: JsonObject; idempotencyKey?: string }): Promise<Accepted> {
    const dedupe = input.idempotencyKey ? `api:${flowId}:${input.idempotencyKey}` : `api:${randomUUID()}`;
    return this.journal(workspaceId, 'api', dedupe, `${workspaceId}/${input.contactId}`, { flowId, contactId: input.contactId, vars: input.vars ?? {} });
  }

  receiveWebhook(workspaceId: string, flowId: string, triggerId: string, input: { contactId?: string; body: JsonObject; idempotencyKey?: string }): Promise<Accepted> {
    const dedupe = input.idempotencyKey ? `hook:${flowId}:${triggerId}:${input.idempotencyKey}` : `hook:${randomUUID()}`;
    return this.journal(workspaceId, 'webhook', dedupe, `${workspaceId}/webhook/${flowId}`, {
      flowId,
      triggerId,
      ...(input.contactId ? { contactId: input.contactId } : {}),
      body: input.body,
    });
  }

  contactChanged(workspaceId: string, contactId: string, change: { created: boolean; changedFields: string[] }): Promise<Accepted> {
    return this.journal(workspaceId, 'contact', `contact:${contactId}:${randomUUID()}`, `${workspaceId}/${contactId}`, { contactId, ...change });
  }

  async cancelRun(workspaceId: string, runId: string): Promise<RunRecord> {
    return this.setStatus(workspaceId, runId, 'cancelled', 'run.cancelled');
  }

  async retryRun(workspaceId: string, runId: string): Promise<RunRecord> {
    return this.setStatus(workspaceId, runId, 'running', 'run.retried');
  }

  async simulatorTranscript(workspaceId: string, contactExternalId: string, afterSeq?: number): Promise<SimulatorOutbound[]> {
    const contact = await this.store.contacts.findByIdentity(workspaceId, { channel: 'simulator', externalId: contactExternalId });
    if (!contact) return [];
    const messages = await this.store.messages.list(workspaceId, contact.id, afterSeq === undefined ? {} : { afterSeq });
    return messages
      .filter((m) => m.direction === 'outbound')
      .map((m) => ({ seq: m.seq, runId: m.runId ?? '', nodeId: m.nodeId ?? '', message: m.message as unknown as SimulatorOutbound['message'], at: m.at }));
  }

  async idle(): Promise<void> {}

  /** Workspaces whose set of active flows changed, in call order. */
  readonly flowChanges: string[] = [];

  async flowsChanged(workspaceId: string): Promise<void> {
    this.flowChanges.push(workspaceId);
  }

  private async setStatus(workspaceId: string, runId: string, status: StoredRunStatus, event: string): Promise<RunRecord> {
    const run = await this.store.runs.get(workspaceId, runId);
    if (!run) throw new Error(`no run ${runId}`);
    const at = this.now();
    const next: RunRecord = { ...run, status, updatedAt: at, stepCount: run.stepCount + 1, ...(status === 'cancelled' ? { endedAt: at } : {}) };
    if (status !== 'failed') {
      delete next.error;
      delete next.failedNodeId;
    }
    await commit(this.store, next, false, event, at);
    return (await this.store.runs.get(workspaceId, runId)) as RunRecord;
  }
}

async function commit(store: SqliteStore, run: RunRecord, isNew: boolean, event: string, at: number): Promise<void> {
  const leaseKey = `${run.workspaceId}/${run.contactId}`;
  const owner = 'api-test';
  await store.leases.acquire(leaseKey, owner, at, at + 60_000);
  await store.commitStep({
    run,
    isNew,
    leaseOwner: owner,
    leaseKey,
    stepLog: {
      runId: run.id,
      workspaceId: run.workspaceId,
      stepNo: isNew ? 0 : run.stepCount - 1,
      at,
      event,
      path: [{ nodeId: 'done', output: 'next', at }],
      effects: [],
      status: run.status,
      ...(run.error ? { error: run.error } : {}),
    },
    effects: [],
  });
  await store.leases.release(leaseKey, owner);
}

/** Stores a run directly (as the runtime would after its first step). */
export async function seedRun(
  store: SqliteStore,
  input: { workspaceId: string; flowId: string; contactId: string; status: StoredRunStatus; at: number },
): Promise<RunRecord> {
  const run: RunRecord = {
    id: `run_${randomUUID()}`,
    workspaceId: input.workspaceId,
    flowId: input.flowId,
    flowVersion: 1,
    contactId: input.contactId,
    triggerId: 'hook',
    status: input.status,
    snapshot: { secret: 'snapshot stays inside' },
    stepCount: 1,
    createdAt: input.at,
    updatedAt: input.at,
    ...(input.status === 'failed' ? { error: { code: 'NODE_FAILED', message: 'boom', nodeId: 'done' }, failedNodeId: 'done' } : {}),
    ...(['done', 'failed', 'cancelled'].includes(input.status) ? { endedAt: input.at } : {}),
  };
  await commit(store, run, true, 'run.started', input.at);
  return run;
}

export interface Harness {
  app: Application;
  store: SqliteStore;
  runtime: JournalingRuntime;
  metrics: Metrics;
  /** Workspace under test and a second one, for isolation checks. */
  ws: string;
  otherWs: string;
  keys: Record<Role, string> & { other: string };
  keyIds: Record<Role, string>;
  /** Log lines the app wrote. */
  logs: string[];
  clock: { now: number };
  auth(role?: Role | 'other'): { authorization: string };
  close(): Promise<void>;
}

/** Builds the app over a fresh in-memory store with a key per role. */
export async function createHarness(config: Partial<AppConfig> = {}, mount?: AppDeps['mount']): Promise<Harness> {
  const store = createSqliteStore({ file: ':memory:' });
  await store.migrate();
  const clock = { now: Date.UTC(2026, 0, 1) };
  const now = () => clock.now;
  const ws = (await store.workspaces.create({ name: 'Acme' })).id;
  const otherWs = (await store.workspaces.create({ name: 'Other' })).id;
  const keys = {} as Harness['keys'];
  const keyIds = {} as Harness['keyIds'];
  for (const role of ['admin', 'team_admin', 'staff'] as const) {
    const { record, secret } = await createApiKey(store, { workspaceId: ws, name: role, role, at: now() });
    keys[role] = secret;
    keyIds[role] = record.id;
  }
  keys.other = (await createApiKey(store, { workspaceId: otherWs, name: 'other admin', role: 'admin', at: now() })).secret;
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const runtime = new JournalingRuntime(store, now);
  const metrics = createMetrics({ defaultMetrics: false });
  const app = createApp({
    store,
    runtime,
    catalogue: testCatalogue,
    metrics,
    logger: createLogger({ level: 'debug', destination }),
    clock: now,
    config: { embedTokenSecret: EMBED_SECRET, ...config },
    ...(mount ? { mount } : {}),
  });
  return {
    app,
    store,
    runtime,
    metrics,
    ws,
    otherWs,
    keys,
    keyIds,
    logs,
    clock,
    auth: (role = 'admin') => ({ authorization: `Bearer ${keys[role]}` }),
    close: () => store.close(),
  };
}

/**
 * Checks a response body against a component schema of the OpenAPI document, so the document
 * cannot drift from what the server sends.
 */
export function matchesSchema(schemaName: string, value: unknown): string[] {
  let check = schemaChecks.get(schemaName);
  if (!check) {
    check = schemaAjv.compile({ $ref: `api-doc#/components/schemas/${schemaName}` });
    schemaChecks.set(schemaName, check);
  }
  return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

/** An ajv for 2020-12 schemas with the standard formats, as the server uses. */
export function docAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv;
}

const schemaAjv = docAjv();
schemaAjv.addSchema({ $id: 'api-doc', components: { schemas: API_SCHEMAS } });
const schemaChecks = new Map<string, ValidateFunction>();
