import { Writable } from 'node:stream';
import type { Application } from 'express';
import request from 'supertest';
import type { Catalogue, FlowDefinition, FlowEdge, FlowNode, FlowTrigger } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  createAgendaScheduler,
  createApiKey,
  createApp,
  createLogger,
  createMetrics,
  createRuntime,
  createSimulatorChannel,
  createSqliteStore,
  SqliteAgendaBackend,
  type AgendaScheduler,
  type AppConfig,
  type AppDeps,
  type ChannelAdapter,
  type Metrics,
  type Role,
  type Runtime,
  type RuntimeOptions,
  type SqliteStore,
} from '../src/index.js';
import { API_SCHEMAS } from '../src/api/schemas.js';

/**
 * Shared fixtures of the API tests: the real SQLite store (in memory), the real durable runtime
 * with an agenda scheduler on the store's database and the simulator channel, and per test a fresh
 * pair of workspaces with one API key per role. Not a test file itself.
 *
 * One {@link ApiEnv} serves a whole test file (start it in `beforeAll`, dispose it in `afterAll`);
 * each test gets its own workspaces, app, clock, metrics and log from {@link ApiEnv.harness}, so
 * tests stay independent without paying for a runtime each.
 */

export const EMBED_SECRET = 'test-embed-secret-0123456789abcdef-0123456789';

/** The real built-in catalogue the server ships with. */
export const testCatalogue: Catalogue = builtinCatalogue;

const SETTINGS: FlowDefinition['settings'] = {
  channels: ['simulator'],
  defaultReplyTimeout: 'PT1H',
  honourInterruptKeywords: true,
  onWaitingRunExpired: 'resume',
};

/** A flow the validator accepts: a webhook trigger and one end node. */
export function validFlow(id: string, overrides: Partial<FlowDefinition> = {}): FlowDefinition {
  return {
    id,
    name: `Flow ${id}`,
    triggers: [{ id: 'hook', type: 'webhook', params: { secret: 'hook-secret-0123456789' } }],
    nodes: [{ id: 'done', type: 'end', typeVersion: 1, position: { x: 0, y: 0 }, params: {} }],
    edges: [],
    variables: [],
    settings: SETTINGS,
    ...overrides,
  };
}

/**
 * A small publishable flow: one trigger, then the given nodes in a chain, each joined to the next
 * by the output named in its `via`. The flow starts at the first node.
 *
 * @example
 * chainFlow('greet', { id: 't', type: 'api', params: {} }, [['hi', 'send_text', { text: 'Hi' }]]);
 */
export function chainFlow(
  id: string,
  trigger: FlowTrigger,
  steps: Array<[nodeId: string, type: string, params: FlowNode['params'], via?: string]>,
): FlowDefinition {
  const nodes: FlowNode[] = steps.map(([nodeId, type, params], i) => ({ id: nodeId, type, typeVersion: 1, position: { x: i * 200, y: 0 }, params }));
  const edges: FlowEdge[] = [];
  for (let i = 0; i + 1 < steps.length; i++) {
    const [source, , , via] = steps[i]!;
    if (via === undefined) throw new Error(`chainFlow: node ${source} needs the output that leads to the next node`);
    edges.push({ id: `e${i}`, source, sourceOutput: via, target: steps[i + 1]![0] });
  }
  return { id, name: `Flow ${id}`, triggers: [trigger], nodes, edges, variables: [], settings: SETTINGS };
}

/** A run as `GET /api/runs` lists it. */
export interface ListedRun {
  id: string;
  flowId: string;
  contactId: string;
  status: string;
  error?: { code: string; message: string };
}

export interface Harness {
  app: Application;
  store: SqliteStore;
  runtime: Runtime;
  scheduler: AgendaScheduler;
  metrics: Metrics;
  /** Workspace under test and a second one, for isolation checks. */
  ws: string;
  otherWs: string;
  keys: Record<Role, string> & { other: string };
  keyIds: Record<Role, string>;
  /** Log lines the app wrote. */
  logs: string[];
  /** The app's clock (record stamps, token expiry); the runtime keeps real time for its timers. */
  clock: { now: number };
  auth(role?: Role | 'other'): { authorization: string };
  /** Creates and publishes a flow through the API (admin key). */
  publish(flow: FlowDefinition): Promise<void>;
  /** Runs of the workspace under test, newest first, after the runtime has settled. */
  runs(query?: Record<string, string>): Promise<ListedRun[]>;
  /** Waits until the runtime has processed every journaled event and due effect. */
  settle(): Promise<void>;
  /** Tells the app the server is shutting down (what server.ts does on SIGTERM). */
  beginShutdown(): void;
}

/** One runtime for a test file: store, scheduler and runtime, started. */
export interface ApiEnv {
  store: SqliteStore;
  runtime: Runtime;
  scheduler: AgendaScheduler;
  /** What the runtime and scheduler logged at warn or error level since the last call; clears it. */
  takeProblems(): string[];
  /** Fresh workspaces, keys and an app over this runtime. */
  harness(config?: Partial<AppConfig>, mount?: AppDeps['mount']): Promise<Harness>;
  /** Stops the runtime (and its scheduler) and closes the store. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Starts the real runtime over a fresh SQLite store (in memory unless `file` is given), wired as
 * `bootstrap()` wires it: agenda on the store's database, the simulator channel, the global
 * `fetch` (no test flow calls out). Polls quickly so a test waits milliseconds, not the
 * production 100-500 ms.
 */
export async function startApiEnv(
  options: {
    file?: string;
    runtime?: Pick<RuntimeOptions, 'effectLanes' | 'leaseMs' | 'sendTimeoutMs' | 'nodeTimeoutMs' | 'maxRunSteps'>;
    catalogue?: Catalogue;
    /** Channel adapters besides the simulator. */
    channels?: ChannelAdapter[];
  } = {},
): Promise<ApiEnv> {
  const catalogue = options.catalogue ?? testCatalogue;
  const store = createSqliteStore({ file: options.file ?? ':memory:', synchronous: 'NORMAL' });
  await store.migrate();
  const problems: string[] = [];
  const scheduler = createAgendaScheduler({
    backend: new SqliteAgendaBackend(store.db),
    processEvery: 50,
    onError: (err) => problems.push(`scheduler: ${err.message}`),
  });
  const runtime = createRuntime({
    store,
    catalogue,
    scheduler,
    channels: new Map([createSimulatorChannel(), ...(options.channels ?? [])].map((adapter) => [adapter.channel, adapter])),
    fetch,
    pollMs: 20,
    ...options.runtime,
    log: (level, message, data) => {
      if (level === 'warn' || level === 'error') problems.push(`${level}: ${message} ${JSON.stringify(data ?? {})}`);
    },
  });
  await runtime.start();
  let disposed: Promise<void> | undefined;
  return {
    store,
    runtime,
    scheduler,
    takeProblems: () => problems.splice(0),
    harness: (config = {}, mount) => createHarness({ store, runtime, scheduler, catalogue }, config, mount),
    dispose() {
      disposed ??= (async () => {
        await runtime.stop();
        if (store.db.open) await store.close();
      })();
      return disposed;
    },
  };
}

async function createHarness(
  env: { store: SqliteStore; runtime: Runtime; scheduler: AgendaScheduler; catalogue: Catalogue },
  config: Partial<AppConfig>,
  mount?: AppDeps['mount'],
): Promise<Harness> {
  const { store, runtime, scheduler, catalogue } = env;
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
  const metrics = createMetrics({ defaultMetrics: false });
  const shutdown = new AbortController();
  const app = createApp({
    store,
    runtime,
    catalogue,
    metrics,
    logger: createLogger({ level: 'debug', destination }),
    clock: now,
    config: { embedTokenSecret: EMBED_SECRET, ...config },
    ...(mount ? { mount } : {}),
    shutdown: shutdown.signal,
  });
  const auth = (role: Role | 'other' = 'admin') => ({ authorization: `Bearer ${keys[role]}` });
  return {
    app,
    store,
    runtime,
    scheduler,
    metrics,
    ws,
    otherWs,
    keys,
    keyIds,
    logs,
    clock,
    auth,
    async publish(flow) {
      await request(app).post('/api/flows').set(auth()).send(flow).expect(201);
      await request(app).post(`/api/flows/${encodeURIComponent(flow.id)}/publish`).set(auth()).expect(201);
    },
    async runs(query = {}) {
      await runtime.idle();
      const res = await request(app).get('/api/runs').query(query).set(auth()).expect(200);
      return res.body.items as ListedRun[];
    },
    settle: () => runtime.idle(),
    beginShutdown: () => shutdown.abort(),
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
  ajv.addFormat('cron', true);
  ajv.addFormat('timezone', true);
  return ajv;
}

const schemaAjv = docAjv();
schemaAjv.addSchema({ $id: 'api-doc', components: { schemas: API_SCHEMAS } });
const schemaChecks = new Map<string, ValidateFunction>();
