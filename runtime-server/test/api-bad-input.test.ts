import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import type { Application } from 'express';
import { requestListener } from '../src/app.js';
import { answerClientError } from '../src/http/client-error.js';
import { chainFlow, startApiEnv, validFlow, type ApiEnv, type Harness } from './api-support.js';

/**
 * Every operation of /openapi.json, sent bad input of every kind a careless or hostile client
 * sends: each must answer 4xx (never 5xx) with a problem document, a 422 must name the fields it
 * refuses, and a refused request must leave the database exactly as it was.
 *
 * The cases are generated from the document itself, so a route added later is covered the day it
 * is mounted.
 */

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  bodySchema?: JsonSchemaLike;
}
interface JsonSchemaLike {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  oneOf?: JsonSchemaLike[];
  anyOf?: JsonSchemaLike[];
  allOf?: JsonSchemaLike[];
}

/** One request to make: where its parts differ from a well-formed request to the same operation. */
interface Case {
  what: string;
  path?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  /** A raw body with its content type; `undefined` sends none. */
  raw?: { type: string; text: string };
  /** The top-level body property the case spoils, when it spoils one. */
  property?: string;
}

const HOOK_SECRET = 'hook-secret-0123456789';
const LONG = 'x'.repeat(20_000);
/** Long, yet inside Node's 16 KiB of request line and headers (past it Node answers 431 itself). */
const LONG_IN_URL = 'x'.repeat(6_000);

/** Values no well-formed path segment, query value or header of this API takes. */
const BAD_SEGMENTS = ['%ZZ', '%00', LONG_IN_URL, '..%2F..%2Fetc', '%F0%9F%92%A9', "'%20OR%201%3D1--", '__proto__', 'constructor'];
const BAD_QUERY_VALUES = ['', '-1', '0', '1e400', '9007199254740993', 'abc', '%ZZ', 'true', LONG_IN_URL, '__proto__'];
const BAD_HEADER_VALUES = ['', ' ', 'W/"', '"unterminated', LONG_IN_URL, 'null'];
/** JSON values of every type, and a few shapes that have broken parsers and validators. */
const BAD_VALUES: Array<[string, string]> = [
  ['null', 'null'],
  ['a number', '42'],
  ['a negative number', '-1'],
  ['a float', '1.5'],
  ['a string', '"x"'],
  ['an empty string', '""'],
  ['a long string', JSON.stringify(LONG)],
  ['a boolean', 'true'],
  ['an array', '[1,"a",null]'],
  ['an object', '{"a":{"b":1}}'],
  ['a deep array', `${'['.repeat(3_000)}${']'.repeat(3_000)}`],
  ['a __proto__ object', '{"__proto__":{"polluted":true}}'],
];
const BAD_BODIES: Array<[string, { type: string; text: string }]> = [
  ['malformed JSON', { type: 'application/json', text: '{"a":' }],
  ['JSON null', { type: 'application/json', text: 'null' }],
  ['a JSON array', { type: 'application/json', text: '[]' }],
  ['a JSON string', { type: 'application/json', text: '"body"' }],
  ['a JSON number', { type: 'application/json', text: '7' }],
  ['an empty object', { type: 'application/json', text: '{}' }],
  ['a deep array', { type: 'application/json', text: `${'['.repeat(10_000)}${']'.repeat(10_000)}` }],
  ['a deep object', { type: 'application/json', text: `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}` }],
  ['a __proto__ key', { type: 'application/json', text: '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}' }],
  ['plain text', { type: 'text/plain', text: 'hello' }],
  ['form data', { type: 'application/x-www-form-urlencoded', text: 'a=1&b=2' }],
  ['a latin1 charset', { type: 'application/json; charset=latin1', text: '{}' }],
  ['two megabytes', { type: 'application/json', text: JSON.stringify({ blob: 'y'.repeat(2_000_000) }) }],
  ['invalid UTF-8', { type: 'application/json', text: '{"text":"\udc00"}' }],
];

let env: ApiEnv;
let h: Harness;
let operations: Operation[];
let components: Record<string, JsonSchemaLike>;
/** A well-formed value of each path parameter, by route and name. */
let validPath: (op: Operation) => Record<string, string>;
/** A body each operation takes as it is, keyed by method and path; spoiled one property at a time. */
let validBodies: Record<string, Record<string, unknown>>;
const greet = chainFlow('greet', { id: 'api', type: 'api', params: {} }, [['hi', 'send_text', { text: 'Hi' }, 'sent'], ['bye', 'end', {}]]);

beforeAll(async () => {
  env = await startApiEnv();
  h = await env.harness({ simulatorMaxWaitMs: 50 });
  await h.publish(greet);
  await h.publish(validFlow('hooked'));
  const contact = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { name: 'Ann' } }).expect(201);
  await request(h.app).post('/api/flows/greet/runs').set(h.auth()).send({ contactId: contact.body.id }).expect(202);
  const [run] = await h.runs();
  const spareKey = await request(h.app).post('/api/api-keys').set(h.auth()).send({ name: 'spare', role: 'staff' }).expect(201);

  const doc = (await request(h.app).get('/openapi.json').expect(200)).body as {
    paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchemaLike }> } }>>;
    components: { schemas: Record<string, JsonSchemaLike> };
  };
  components = doc.components.schemas;
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method,
      path,
      parameters: op.parameters ?? [],
      ...(op.requestBody ? { bodySchema: op.requestBody.content['application/json']?.schema ?? {} } : {}),
    })),
  );
  const ids: Record<string, string> = {
    '/api/flows/': 'greet',
    '/api/runs/': run!.id,
    '/api/contacts/': contact.body.id as string,
    '/api/api-keys/': spareKey.body.id as string,
  };
  validPath = (op) => {
    const values: Record<string, string> = {};
    for (const p of op.parameters.filter((x) => x.in === 'path')) {
      if (p.name === 'id') values.id = Object.entries(ids).find(([prefix]) => op.path.startsWith(prefix))?.[1] ?? 'x';
      else if (p.name === 'version') values.version = '1';
      else if (p.name === 'workspaceId') values.workspaceId = h.ws;
      else if (p.name === 'flowId') values.flowId = 'hooked';
      else if (p.name === 'triggerId') values.triggerId = 'hook';
      else values[p.name] = 'x';
    }
    return values;
  };
  validBodies = {
    'post /api/flows': validFlow('fuzzed') as unknown as Record<string, unknown>,
    'put /api/flows/{id}': greet as unknown as Record<string, unknown>,
    'post /api/flows/{id}/rollback': { version: 1 },
    'post /api/flows/{id}/test-run': { name: 'fuzz' },
    'post /api/flows/{id}/runs': { contactId: contact.body.id },
    'post /api/contacts': { fields: { name: 'Fuzz' } },
    'patch /api/contacts/{id}': { fields: { name: 'Fuzzed' } },
    'post /api/api-keys': { name: 'fuzz', role: 'staff' },
    'post /api/simulator/messages': { contact: 'fuzz', text: 'hello' },
  };
  await h.settle();
});
afterAll(() => env.dispose());

function resolve(schema: JsonSchemaLike | undefined): JsonSchemaLike {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 10; i++) s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

/** The top-level properties a body schema names, through $ref, allOf, oneOf and anyOf. */
function bodyProperties(schema: JsonSchemaLike | undefined): string[] {
  const s = resolve(schema);
  const names = new Set(Object.keys(s.properties ?? {}));
  for (const part of [...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.anyOf ?? [])]) for (const n of bodyProperties(part)) names.add(n);
  return [...names];
}

function casesFor(op: Operation): Case[] {
  const cases: Case[] = [];
  for (const p of op.parameters) {
    if (p.in === 'path') {
      for (const bad of BAD_SEGMENTS) cases.push({ what: `path ${p.name}=${bad.slice(0, 24)}`, path: { [p.name]: bad } });
    } else if (p.in === 'query') {
      for (const bad of BAD_QUERY_VALUES) cases.push({ what: `query ${p.name}=${bad.slice(0, 24)}`, query: `${p.name}=${bad}` });
      cases.push({ what: `query ${p.name} twice`, query: `${p.name}=1&${p.name}=2` });
      cases.push({ what: `query ${p.name} as an object`, query: `${p.name}[a]=1` });
      cases.push({ what: `query ${p.name} as an array`, query: `${p.name}[]=1` });
    } else {
      for (const bad of BAD_HEADER_VALUES) cases.push({ what: `header ${p.name}=${JSON.stringify(bad.slice(0, 24))}`, headers: { [p.name]: bad } });
    }
  }
  if (op.bodySchema) {
    for (const [what, raw] of BAD_BODIES) cases.push({ what: `body: ${what}`, raw });
    const base = validBodies[`${op.method} ${op.path}`] ?? {};
    for (const property of bodyProperties(op.bodySchema)) {
      const others = JSON.stringify(Object.fromEntries(Object.entries(base).filter(([k]) => k !== property)));
      const prefix = others === '{}' ? '{' : `${others.slice(0, -1)},`;
      for (const [what, value] of BAD_VALUES) {
        cases.push({ what: `body.${property} as ${what}`, property, raw: { type: 'application/json', text: `${prefix}${JSON.stringify(property)}:${value}}` } });
      }
    }
  }
  return cases;
}

/**
 * What the store holds, a digest per table: a refused request must change none. Leases are left
 * out: the runtime's background loops take and drop them on their own clock.
 */
function databaseDigest(): string {
  const db = h.store.db;
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'leases' ORDER BY name")
    .pluck()
    .all() as string[];
  return tables
    .map((table) => {
      const hash = createHash('sha256');
      for (const row of db.prepare(`SELECT * FROM "${table}"`).raw().iterate()) hash.update(JSON.stringify(row));
      return `${table}:${hash.digest('hex').slice(0, 12)}`;
    })
    .join(' ');
}

async function send(serve: (app: Application) => unknown, op: Operation, c: Case): Promise<request.Response> {
  const segments = { ...validPath(op), ...c.path };
  const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => segments[name] ?? 'x') + (c.query ? `?${c.query}` : '');
  const headers: Record<string, string> = { ...h.auth() };
  if (op.path.startsWith('/api/hooks/')) headers['X-Convoflow-Secret'] = HOOK_SECRET;
  if (op.parameters.some((p) => p.name === 'If-Match')) {
    const flow = await request(h.app).get(`/api/flows/${segments.id}`).set(h.auth());
    if (flow.headers.etag) headers['If-Match'] = flow.headers.etag as string;
  }
  Object.assign(headers, c.headers);
  const agent = request(serve(h.app) as Application);
  let req = (agent[op.method as 'get'] as (url: string) => request.Test)(url);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  if (c.raw) req = req.set('Content-Type', c.raw.type).send(c.raw.text);
  return req;
}

/** What is wrong with a response to a bad request; empty when it is answered as it should be. */
function faults(res: request.Response, c: Case): string[] {
  const found: string[] = [];
  if (res.status >= 500) found.push(`answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  if (res.status < 400) return found;
  const body = res.body as { status?: unknown; title?: unknown; detail?: unknown; errors?: Array<{ field?: unknown; message?: unknown }> };
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) found.push(`${res.status} as ${String(res.headers['content-type'])}, not a problem document`);
  if (body.status !== res.status || typeof body.title !== 'string' || typeof body.detail !== 'string' || body.detail === '') {
    found.push(`${res.status} with a malformed problem document: ${JSON.stringify(body).slice(0, 300)}`);
  }
  if (res.status === 422) {
    const errors = body.errors ?? [];
    if (errors.length === 0 || errors.some((e) => typeof e.field !== 'string' || e.field === '' || typeof e.message !== 'string')) {
      found.push(`422 without a field for each error: ${JSON.stringify(body).slice(0, 300)}`);
    } else if (c.property !== undefined && !errors.some((e) => (e.field as string).startsWith(`/${c.property}`))) {
      found.push(`422 that does not name /${c.property}: ${JSON.stringify(errors).slice(0, 300)}`);
    }
  }
  return found;
}

async function sweep(serve: (app: Application) => unknown, only?: (op: Operation) => boolean): Promise<string[]> {
  const found: string[] = [];
  let sent = 0;
  for (const op of operations.filter(only ?? (() => true))) {
    for (const c of casesFor(op)) {
      await h.settle(); // what an earlier accepted case started is not this case's doing
      const before = databaseDigest();
      const res = await send(serve, op, c);
      sent += 1;
      const label = `${op.method.toUpperCase()} ${op.path} with ${c.what}`;
      for (const fault of faults(res, c)) found.push(`${label}: ${fault}`);
      if (res.status >= 400) {
        await h.settle();
        const after = databaseDigest();
        if (after !== before) found.push(`${label}: answered ${res.status} but changed the database: ${after.split(' ').filter((t) => !before.includes(t)).join(' ')}`);
      }
    }
  }
  expect(sent).toBeGreaterThan(operations.length);
  return found;
}

describe('bad input to every operation of /openapi.json', () => {
  it('should answer 4xx with a problem document naming the field, and write nothing (server.ts path)', async () => {
    expect(operations.length).toBeGreaterThan(25);
    expect(await sweep(requestListener)).toEqual([]);
  });

  it('should do the same for the simulator on the Express path (an app mounted elsewhere)', async () => {
    expect(await sweep((app: Application) => app, (op) => op.path.startsWith('/api/simulator'))).toEqual([]);
  });

  it('should answer the spoiled cases as problems, not the well-formed request they came from', async () => {
    // The generator must make requests the server refuses, else the sweeps above prove nothing.
    const op = operations.find((o) => o.method === 'post' && o.path === '/api/contacts')!;
    const statuses = new Set<number>();
    for (const c of casesFor(op)) statuses.add((await send(requestListener, op, c)).status);
    expect([...statuses].filter((s) => s >= 400).sort()).toEqual(expect.arrayContaining([400, 413, 415, 422]));
  });
});

describe('a body nested deeper than the API reads', () => {
  it('should be refused with a 422 naming where it goes too deep, and nothing stored', async () => {
    let fields: unknown = 'bottom';
    for (let i = 0; i < 70; i++) fields = { 'a/b': fields };
    const before = databaseDigest();
    const res = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields }).expect(422);
    expect(res.body.errors).toEqual([{ field: `/fields${'/a~1b'.repeat(64)}`, message: 'nests deeper than 64 levels' }]);
    expect(databaseDigest()).toBe(before);
  });

  it('should take a body 64 levels deep', async () => {
    let fields: unknown = 'bottom';
    for (let i = 0; i < 63; i++) fields = { a: fields };
    await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { deep: fields } }).expect(201);
  });
});

describe('a request Node cannot parse', () => {
  /** Writes `raw` to a server wired as server.ts wires it; resolves with everything it answers. */
  async function exchange(raw: string): Promise<{ status: number; type: string; body: { status?: number; detail?: string; errors?: Array<{ field: string }> } }> {
    const server = createServer(requestListener(h.app)).on('clientError', answerClientError).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await once(socket, 'connect');
      socket.end(raw);
      let text = '';
      for await (const chunk of socket) text += String(chunk);
      const [head = '', body = ''] = text.split('\r\n\r\n');
      return {
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
        type: /content-type: ([^\r]+)/i.exec(head)?.[1] ?? '',
        body: JSON.parse(body) as { status?: number; detail?: string; errors?: Array<{ field: string }> },
      };
    } finally {
      server.close();
    }
  }

  it('should answer headers over 16 KiB with a 431 problem document naming the headers', async () => {
    const res = await exchange(`GET /api/flows?x=${'y'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(res).toMatchObject({ status: 431, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(res.body).toMatchObject({ status: 431, errors: [{ field: 'headers' }] });
  });

  it('should answer a malformed request line with a 400 problem document naming the request', async () => {
    const res = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(res).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(res.body).toMatchObject({ status: 400, errors: [{ field: 'request' }] });
  });

  it('should answer a malformed header with a 400 problem document naming the headers', async () => {
    const res = await exchange('GET /healthz HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n');
    expect(res).toMatchObject({ status: 400, body: { status: 400, errors: [{ field: 'headers' }] } });
    expect(res.body.detail).toMatch(/could not be parsed/);
  });
});
