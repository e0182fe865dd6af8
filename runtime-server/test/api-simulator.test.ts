import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import request from 'supertest';
import type { Application } from 'express';
import { requestListener } from '../src/app.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { chainFlow, matchesSchema, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
// Whatever a test made the runtime do, it finished without logging a failure.
afterEach(async () => {
  await h.settle();
  expect(env.takeProblems()).toEqual([]);
});
beforeEach(async () => {
  h = await env.harness({ simulatorMaxWaitMs: 200 });
});

/** Answers every simulator message with its text: one run per message, ending after the send. */
const echoFlow = chainFlow('echo', { id: 'any', type: 'message.received', params: {} }, [
  ['reply', 'send_text', { text: 'echo: {{trigger.message.text}}' }],
]);

const texts = (items: { message: { text?: string } }[]) => items.map((m) => m.message.text);

// Every behaviour holds on both paths: Express (the app mounted elsewhere) and the fast lane (server.ts).
describe.each([
  ['Express', (app: Application) => app],
  ['the fast lane', requestListener],
])('simulator channel through %s', (_lane, serve) => {
  const say = (contact: string, body: Record<string, unknown>) =>
    request(serve(h.app)).post('/api/simulator/messages').set(h.auth()).send({ contact, ...body }).expect(202);

  it('should record the message from the contact and answer it from a published flow (202)', async () => {
    await h.publish(echoFlow);
    const res = await request(serve(h.app)).post('/api/simulator/messages').set(h.auth('staff')).send({ contact: 'alice', text: 'hi', messageId: 'm1' }).expect(202);
    expect(matchesSchema('Accepted', res.body)).toEqual([]);
    expect(res.body.accepted).toBe(true);
    await h.settle();
    const contact = await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'alice' });
    const conversation = await h.store.messages.list(h.ws, contact!.id);
    expect(conversation.map((m) => [m.direction, m.message])).toEqual([
      ['inbound', { id: 'm1', channel: 'simulator', from: 'alice', text: 'hi', sentAt: h.clock.now }],
      ['outbound', { kind: 'text', text: 'echo: hi' }],
    ]);
    const runs = await h.runs();
    expect(runs).toEqual([expect.objectContaining({ flowId: 'echo', contactId: contact!.id, status: 'done' })]);
  });

  it('should give a message without a messageId a time-ordered id, so journal appends stay at the end of the index', async () => {
    for (const text of ['one', 'two', 'three']) await say('orderly', { text });
    await h.settle();
    const contact = await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'orderly' });
    const ids = (await h.store.messages.list(h.ws, contact!.id)).map((m) => String((m.message as { id?: unknown }).id));
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^sim_[0-9a-f]{12}[0-9a-f]{20}$/);
    // Ordered by their time prefix (ids made in the same millisecond differ only after it).
    const times = ids.map((id) => id.slice(0, 'sim_'.length + 12));
    expect([...times].sort()).toEqual(times);
  });

  it('should treat a repeated messageId as a redelivery and answer it once', async () => {
    await h.publish(echoFlow);
    await say('alice', { text: 'hi', messageId: 'm1' });
    const again = await say('alice', { text: 'hi', messageId: 'm1' });
    expect(again.body.accepted).toBe(false);
    await h.settle();
    const transcript = await request(serve(h.app)).get('/api/simulator/messages?contact=alice').set(h.auth()).expect(200);
    expect(texts(transcript.body.items)).toEqual(['echo: hi']);
  });

  it('should pass a button press to the flow as trigger.message.replyTo', async () => {
    await h.publish(chainFlow('pressed', { id: 'any', type: 'message.received', params: {} }, [
      ['reply', 'send_text', { text: 'you chose {{trigger.message.replyTo}}' }],
    ]));
    await say('bob', { replyTo: 'products' });
    await h.settle();
    const transcript = await request(serve(h.app)).get('/api/simulator/messages?contact=bob').set(h.auth()).expect(200);
    expect(texts(transcript.body.items)).toEqual(['you chose products']);
  });

  it('should answer 422 naming what is missing', async () => {
    const none = await request(serve(h.app)).post('/api/simulator/messages').set(h.auth()).send({ text: 'hi' }).expect(422);
    expect(none.body.errors).toEqual([{ field: '/contact', message: 'is required' }]);
    const empty = await request(serve(h.app)).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice' }).expect(422);
    expect(empty.body.errors).toEqual([{ field: '/', message: 'must have one of: text, replyTo' }]);
  });

  it('should return the transcript of flow replies after a seq', async () => {
    await h.publish(echoFlow);
    await say('alice', { text: 'one' });
    await h.settle();
    await say('alice', { text: 'two' });
    await h.settle();
    const all = await request(serve(h.app)).get('/api/simulator/messages?contact=alice').set(h.auth('staff')).expect(200);
    expect(matchesSchema('SimulatorTranscript', all.body)).toEqual([]);
    expect(texts(all.body.items)).toEqual(['echo: one', 'echo: two']);
    expect(all.body.items[0]).toMatchObject({ nodeId: 'reply', runId: expect.stringMatching(/./) });
    expect(all.body.items[0].runId).not.toBe(all.body.items[1].runId);
    const first = all.body.items[0].seq as number;
    const newer = await request(serve(h.app)).get(`/api/simulator/messages?contact=alice&after=${first}`).set(h.auth()).expect(200);
    expect(texts(newer.body.items)).toEqual(['echo: two']);
    expect(newer.body.after).toBe(all.body.after);
  });

  it('should show no replies when no published flow matches', async () => {
    await say('carol', { text: 'anyone there?' });
    await h.settle();
    const transcript = await request(serve(h.app)).get('/api/simulator/messages?contact=carol').set(h.auth()).expect(200);
    expect(transcript.body.items).toEqual([]);
    expect(await h.runs()).toEqual([]);
  });

  it('should return an empty transcript for an unknown contact, also after a bounded wait', async () => {
    const res = await request(serve(h.app)).get('/api/simulator/messages?contact=nobody&after=5&wait=60000').set(h.auth()).expect(200);
    expect(res.body).toEqual({ items: [], after: 5 });
  });

  it('should return at once when a long poll already has messages', async () => {
    await h.publish(echoFlow);
    await say('alice', { text: 'x' });
    await h.settle();
    const res = await request(serve(h.app)).get('/api/simulator/messages?contact=alice&wait=60000').set(h.auth()).expect(200);
    expect(texts(res.body.items)).toEqual(['echo: x']);
  });

  it('should answer a message with its reply in one round trip when the POST waits (200)', async () => {
    await h.publish(echoFlow);
    const first = await request(serve(h.app)).post('/api/simulator/messages?wait=60000').set(h.auth('staff')).send({ contact: 'dora', text: 'one' }).expect(200);
    expect(matchesSchema('SimulatorExchange', first.body)).toEqual([]);
    expect(first.body).toMatchObject({ accepted: true, journalId: expect.stringMatching(/./) });
    expect(texts(first.body.items)).toEqual(['echo: one']);
    expect(first.body.after).toBe(first.body.items[0].seq);
    // The cursor of one answer keeps the next to its own reply.
    const second = await request(serve(h.app)).post(`/api/simulator/messages?wait=60000&after=${first.body.after}`).set(h.auth()).send({ contact: 'dora', text: 'two' }).expect(200);
    expect(texts(second.body.items)).toEqual(['echo: two']);
    expect(second.body.after).toBeGreaterThan(first.body.after);
    // The same messages as the transcript shows, and one run each.
    const transcript = await request(serve(h.app)).get('/api/simulator/messages?contact=dora').set(h.auth()).expect(200);
    expect(transcript.body.items).toEqual([...first.body.items, ...second.body.items]);
    expect(await h.runs()).toHaveLength(2);
  });

  it('should answer a waiting POST of a repeated messageId with the replies so far and not run again', async () => {
    await h.publish(echoFlow);
    const first = await request(serve(h.app)).post('/api/simulator/messages?wait=60000').set(h.auth()).send({ contact: 'erin', text: 'hi', messageId: 'w1' }).expect(200);
    const again = await request(serve(h.app)).post('/api/simulator/messages?wait=60000').set(h.auth()).send({ contact: 'erin', text: 'hi', messageId: 'w1' }).expect(200);
    expect(again.body).toEqual({ accepted: false, journalId: first.body.journalId, items: first.body.items, after: first.body.after });
    await h.settle();
    expect(await h.runs()).toHaveLength(1);
  });

  it('should end a waiting POST without replies after the server\'s bound, with the message journaled', async () => {
    // No published flow: nothing answers, and the server holds the call at most simulatorMaxWaitMs (200 here).
    const started = performance.now();
    const res = await request(serve(h.app)).post('/api/simulator/messages?wait=60000&after=7').set(h.auth()).send({ contact: 'fred', text: 'anyone?' }).expect(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(res.body).toEqual({ accepted: true, journalId: expect.stringMatching(/./), items: [], after: 7 });
    await h.settle();
    const contact = await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'fred' });
    expect((await h.store.messages.list(h.ws, contact!.id)).map((m) => m.direction)).toEqual(['inbound']);
  });

  it('should answer 422 naming the query parameter of a POST that cannot mean anything', async () => {
    const lone = await request(serve(h.app)).post('/api/simulator/messages?after=3').set(h.auth()).send({ contact: 'gus', text: 'x' }).expect(422);
    expect(lone.body.errors).toEqual([{ field: 'query.after', message: 'is read only together with wait' }]);
    const negative = await request(serve(h.app)).post('/api/simulator/messages?wait=-1').set(h.auth()).send({ contact: 'gus', text: 'x' }).expect(422);
    expect((negative.body.errors as { field: string }[]).map((e) => e.field)).toEqual(['query.wait']);
    // Neither was journaled.
    expect(await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'gus' })).toBeUndefined();
  });

  it('should answer 422 for bad query parameters and keep workspaces apart', async () => {
    const res = await request(serve(h.app)).get('/api/simulator/messages?after=-1').set(h.auth()).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['query.after', 'query.contact']);
    await h.publish(echoFlow);
    await say('alice', { text: 'mine' });
    await h.settle();
    const mine = await request(serve(h.app)).get('/api/simulator/messages?contact=alice').set(h.auth()).expect(200);
    expect(texts(mine.body.items)).toEqual(['echo: mine']);
    const other = await request(serve(h.app)).get('/api/simulator/messages?contact=alice').set(h.auth('other')).expect(200);
    expect(other.body.items).toEqual([]);
  });
});

describe('the fast lane', () => {
  // A fixed request id makes the two problem documents comparable byte for byte.
  const cases: Array<[string, (t: request.Agent) => request.Test]> = [
    ['no credential', (t) => t.post('/api/simulator/messages').send({ contact: 'a', text: 'x' })],
    ['an unknown key', (t) => t.post('/api/simulator/messages').set('authorization', 'Bearer cf_not-a-key-at-all').send({ contact: 'a', text: 'x' })],
    ['malformed JSON', (t) => t.post('/api/simulator/messages').set(h.auth()).set('content-type', 'application/json').send('{"contact": ')],
    ['a body over the limit', (t) => t.post('/api/simulator/messages').set(h.auth()).send({ contact: 'a', text: 'x'.repeat(300_000) })],
    ['a body that is not JSON', (t) => t.post('/api/simulator/messages').set(h.auth()).set('content-type', 'text/plain').send('hello')],
    ['an empty JSON body', (t) => t.post('/api/simulator/messages').set(h.auth()).set('content-type', 'application/json').send('')],
    ['a charset other than UTF-8', (t) => t.post('/api/simulator/messages').set(h.auth()).set('content-type', 'application/json; charset=latin1').send('{}')],
    ['a vendor +json type', (t) => t.post('/api/simulator/messages').set(h.auth()).set('content-type', 'application/vnd.test+json').send('{"contact":"a"}')],
    ['a repeated query parameter', (t) => t.get('/api/simulator/messages?contact=a&contact=b').set(h.auth())],
    ['a bad query parameter', (t) => t.get('/api/simulator/messages?contact=a&after=x').set(h.auth())],
  ];

  it.each(cases)('should answer %s exactly as Express does', async (_name, send) => {
    const viaExpress = await send(request.agent(h.app).set('x-request-id', 'same-id'));
    const viaLane = await send(request.agent(requestListener(h.app)).set('x-request-id', 'same-id'));
    expect(viaExpress.status).toBeGreaterThanOrEqual(400);
    expect([viaLane.status, viaLane.headers['content-type'], viaLane.headers['www-authenticate'], viaLane.text]).toEqual([
      viaExpress.status,
      viaExpress.headers['content-type'],
      viaExpress.headers['www-authenticate'],
      viaExpress.text,
    ]);
    expect(viaLane.headers['x-request-id']).toBe('same-id');
  });

  it('should count its requests in the HTTP metrics under the route template', async () => {
    await request(requestListener(h.app)).get('/api/simulator/messages?contact=metrics-probe').set(h.auth()).expect(200);
    const metrics = await request(h.app).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/api\/simulator\/messages",status="200"\} [1-9]/);
  });

  it('should take a client that leaves mid-body as a client error, not a server failure', async () => {
    const server: Server = createServer(requestListener(h.app)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const served = once(server, 'request');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST /api/simulator/messages HTTP/1.1\r\nhost: x\r\nauthorization: ${h.auth().authorization}\r\n` +
        'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"contact":',
    );
    await served;
    socket.destroy();
    // The lane settles the request a few turns after the socket closes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.close();
    expect(h.logs.filter((line) => line.includes('request error'))).toEqual([]);
  });

  it('should step aside when something is mounted before the API, so that it sees every request', async () => {
    const mounted = await env.harness({}, {
      beforeBody: (app) => {
        app.use((_req, res, next) => {
          res.setHeader('x-mounted', 'yes');
          next();
        });
      },
    });
    const res = await request(requestListener(mounted.app)).get('/api/simulator/messages?contact=a').set(mounted.auth()).expect(200);
    expect(res.headers['x-mounted']).toBe('yes');
  });

  it('should leave every other request to Express', async () => {
    const res = await request(requestListener(h.app)).put('/api/simulator/messages').set(h.auth()).send({}).expect(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    await request(requestListener(h.app)).get('/healthz').expect(200);
  });
});

describe('simulator long poll beside another process', () => {
  let dir: string;
  let shared: ApiEnv;
  let other: SqliteStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-sim-'));
    const file = join(dir, 'shared.db');
    shared = await startApiEnv({ file });
    // Another server's connection to the same file: what it stores, this runtime never did.
    other = createSqliteStore({ file, synchronous: 'NORMAL' });
  });
  afterAll(async () => {
    await other.close();
    await shared.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should wake for a reply another process stored within a poll, not at its own slow re-read', async () => {
    const hs = await shared.harness({ simulatorMaxWaitMs: 5_000 });
    const serve = requestListener(hs.app);
    await request(serve).post('/api/simulator/messages').set(hs.auth()).send({ contact: 'bob', text: 'hi' }).expect(202);
    await hs.settle();
    const bob = await hs.store.contacts.findByIdentity(hs.ws, { channel: 'simulator', externalId: 'bob' });
    const started = performance.now();
    const waiting = request(serve).get('/api/simulator/messages?contact=bob&wait=5000').set(hs.auth()).then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await other.messages.append({
      workspaceId: hs.ws,
      contactId: bob!.id,
      channel: 'simulator',
      direction: 'outbound',
      message: { kind: 'text', text: 'from the other server' },
      runId: 'run-elsewhere',
      nodeId: 'n1',
      idempotencyKey: 'run-elsewhere:1',
      at: hs.clock.now,
    });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(texts(res.body.items)).toEqual(['from the other server']);
    // The runtime polls the store every 20 ms in tests; the long poll's own re-read comes after 1 s.
    expect(performance.now() - started).toBeLessThan(600);
  });
});
