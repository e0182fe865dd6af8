import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  compile,
  messageReceived,
  nodeCompleted,
  start,
  step,
  validate,
  type Effect,
  type FlowDefinition,
  type JsonObject,
  type StepResult,
} from '@convoflow/engine';
import { builtinCatalogue, type NodeExecutionContext } from '@convoflow/nodes';
// The example package is deliberately not a workspace of the repository, so it is imported by path.
import { acmeCatalogue, crmLookupNode, lookUpCustomer } from '../custom-node/src/index.js';

/** The fake CRM's customers, keyed by email, as `GET /api/customers?email=` returns them. */
const CUSTOMERS: Record<string, JsonObject> = {
  'ada@example.com': { id: 'cus_1001', name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold', lifetimeValue: 1820.5 },
  'grace@example.com': { id: 'cus_1002', name: 'Grace Hopper', email: 'grace@example.com', tier: 'silver', lifetimeValue: 240 },
};

interface Seen {
  path: string;
  email: string | null;
  accept: string | undefined;
  requestId: string | undefined;
}

/** A local HTTP server speaking the fake CRM's JSON; some emails trigger its failure modes. */
function fakeCrm(): { server: Server; seen: Seen[] } {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://crm.local');
    const email = url.searchParams.get('email');
    seen.push({ path: url.pathname, email, accept: req.headers.accept, requestId: req.headers['x-request-id'] as string | undefined });
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname !== '/api/customers') return json(404, { error: 'no such route' });
    if (email === 'crash@example.com') return json(503, { error: 'maintenance' });
    if (email === 'weird@example.com') return json(200, { results: 'not the CRM shape' });
    if (email === 'deleted@example.com') return json(404, { error: 'customer deleted' });
    const customer = email ? CUSTOMERS[email.toLowerCase()] : undefined; // matches emails case-insensitively, as CRMs do
    return json(200, { customers: customer ? [customer] : [] });
  });
  return { server, seen };
}

const execContext = (allowPrivateNetwork: boolean, logs: string[] = []): NodeExecutionContext => ({
  runId: 'run-1',
  nodeId: 'find_customer',
  idempotencyKey: 'run-1:3',
  fetch,
  log: (_level, msg) => logs.push(msg),
  signal: new AbortController().signal,
  config: { allowPrivateNetwork },
});

const flowPath = fileURLToPath(new URL('../custom-node/flows/account-lookup.flow.json', import.meta.url));
const flow = JSON.parse(readFileSync(flowPath, 'utf8')) as FlowDefinition;

describe('acme.crm_lookup (examples/custom-node)', () => {
  const crm = fakeCrm();
  let baseUrl = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => crm.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(crm.server.address() as AddressInfo).port}/api`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve, reject) => crm.server.close((err) => (err ? reject(err) : resolve())));
  });
  beforeEach(() => {
    crm.seen.length = 0;
  });

  it('should leave by found with the customer when the CRM knows the email', async () => {
    const logs: string[] = [];
    const result = await lookUpCustomer(execContext(true, logs), { email: ' ada@example.com ', baseUrl });
    expect(result).toEqual({
      output: 'found',
      data: { customerId: 'cus_1001', name: 'Ada Lovelace', tier: 'gold', lifetimeValue: 1820.5 },
    });
    expect(crm.seen).toEqual([{ path: '/api/customers', email: 'ada@example.com', accept: 'application/json', requestId: 'run-1:3' }]);
    expect(logs).toEqual(['crm customer found']);
  });

  it('should leave by not_found for an empty customer list and for a 404', async () => {
    expect(await lookUpCustomer(execContext(true), { email: 'nobody@example.com', baseUrl })).toEqual({
      output: 'not_found',
      data: { reason: 'unknown email' },
    });
    expect((await lookUpCustomer(execContext(true), { email: 'deleted@example.com', baseUrl })).output).toBe('not_found');
  });

  it('should leave by error with the status when the CRM fails', async () => {
    expect(await lookUpCustomer(execContext(true), { email: 'crash@example.com', baseUrl })).toEqual({
      output: 'error',
      data: { error: { code: 'http_status', message: 'the CRM answered 503', status: 503 } },
    });
  });

  it('should leave by error when the CRM answers with another shape', async () => {
    const result = await lookUpCustomer(execContext(true), { email: 'weird@example.com', baseUrl });
    expect(result.output).toBe('error');
    expect(result.data).toEqual({ error: { code: 'bad_response', message: 'the CRM answered with an unexpected body' } });
  });

  it('should refuse a loopback CRM address unless the workspace allows private networks', async () => {
    const result = await lookUpCustomer(execContext(false), { email: 'ada@example.com', baseUrl });
    expect(result.output).toBe('error');
    expect((result.data?.error as JsonObject).code).toBe('blocked_address');
    expect(crm.seen).toHaveLength(0);
  });

  it('should leave by error when nothing listens at the CRM address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await lookUpCustomer(execContext(true), { email: 'ada@example.com', baseUrl: `http://127.0.0.1:${port}/api` });
    expect(result.output).toBe('error');
    expect((result.data?.error as JsonObject).code).toBe('unreachable');
  });

  it('should be a node definition the designer can draw from its manifest', () => {
    expect(crmLookupNode.manifest).toMatchObject({
      type: 'acme.crm_lookup',
      typeVersion: 1,
      kind: 'wait',
      outputs: ['found', 'not_found', 'error'],
    });
    expect(acmeCatalogue.get('acme.crm_lookup', 1)).toBe(crmLookupNode);
    expect(acmeCatalogue.get('send_text', 1)).toBe(builtinCatalogue.get('send_text', 1));
  });

  it('should validate the example flow with the extended catalogue only', () => {
    expect(validate(flow, acmeCatalogue)).toEqual([]);
    expect(validate(flow, builtinCatalogue).map((d) => d.code)).toEqual(['UNKNOWN_NODE_TYPE']);
  });

  it('should run the example flow through the engine with execute() against the fake CRM', async () => {
    const compiled = compile(flow, acmeCatalogue);
    let at = 1_700_000_000_000;
    const sent: string[] = [];
    // Plays the runtime: acknowledges sends, executes executeNode effects with the node's execute().
    const perform = async (result: StepResult): Promise<StepResult> => {
      let current = result;
      const queue: Effect[] = [...result.effects];
      while (queue.length > 0) {
        const effect = queue.shift() as Effect;
        let event;
        if (effect.type === 'sendMessage') {
          sent.push(effect.message.kind === 'text' ? effect.message.text : effect.message.kind);
          event = nodeCompleted({ nodeId: effect.nodeId, seq: effect.seq, output: 'sent', at: (at += 1) });
        } else if (effect.type === 'executeNode') {
          const definition = acmeCatalogue.get(effect.nodeType, effect.typeVersion) as typeof crmLookupNode;
          const params = { ...effect.params, baseUrl };
          const outcome = await (definition.execute as NonNullable<typeof definition.execute>)(execContext(true), params);
          event = nodeCompleted({ nodeId: effect.nodeId, seq: effect.seq, at: (at += 1), ...outcome });
        } else {
          continue;
        }
        current = step(compiled, current.snapshot, event);
        queue.push(...current.effects);
      }
      return current;
    };

    let result = await perform(start(compiled, { runId: 'run-1', at, trigger: {}, contact: {} }));
    expect(result.waiting).toEqual({ nodeId: 'ask_email', for: 'reply' });
    const reply = { id: 'm1', channel: 'webchat' as const, from: 'visitor-1', text: 'Ada@Example.com', sentAt: at };
    result = await perform(step(compiled, result.snapshot, messageReceived(reply, (at += 1000))));

    expect(result.status).toBe('done');
    expect(crm.seen.map((s) => s.email)).toEqual(['Ada@example.com']);
    expect(sent.at(-1)).toBe(
      'Welcome back, Ada Lovelace! As a Gold member you have a priority line: reply "agent" and you\'ll be first in the queue.',
    );
  });
});
