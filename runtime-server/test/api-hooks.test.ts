import { createHmac } from 'node:crypto';
import request from 'supertest';
import { chainFlow, matchesSchema, startApiEnv, validFlow, type ApiEnv, type Harness } from './api-support.js';

const SECRET = 'hook-secret-0123456789';
let env: ApiEnv;
let h: Harness;
let url: string;

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
  h = await env.harness();
  await h.publish(validFlow('f1'));
  url = `/api/hooks/${h.ws}/f1/hook`;
});

/** Runs the runtime started for flow f1, once every call so far is processed. */
const runsOfF1 = () => h.runs({ flowId: 'f1' });

describe('webhook triggers', () => {
  it('should start a run with the body as trigger.webhook when the secret is in the header (202)', async () => {
    const orders = chainFlow('orders', { id: 'hook', type: 'webhook', params: { secret: SECRET } }, [
      ['confirm', 'send_text', { text: 'order {{trigger.webhook.order}} confirmed' }],
    ]);
    await h.publish(orders);
    const contact = await h.store.contacts.create(h.ws, { name: 'Ann' }, [{ channel: 'simulator', externalId: 'ann' }], h.clock.now);
    const res = await request(h.app).post(`/api/hooks/${h.ws}/orders/hook?contactId=${contact.id}`).set('x-convoflow-secret', SECRET).send({ order: 7 }).expect(202);
    expect(matchesSchema('Accepted', res.body)).toEqual([]);
    expect(res.body.accepted).toBe(true);
    expect(await h.runs({ flowId: 'orders' })).toEqual([expect.objectContaining({ contactId: contact.id, status: 'done' })]);
    const transcript = await request(h.app).get('/api/simulator/messages?contact=ann').set(h.auth()).expect(200);
    expect(transcript.body.items.map((m: { message: { text: string } }) => m.message.text)).toEqual(['order 7 confirmed']);
  });

  it('should accept the secret as a query parameter and an empty body', async () => {
    await request(h.app).post(`${url}?secret=${SECRET}`).expect(202);
    // No contactId: the run belongs to the workspace's system contact.
    const runs = await runsOfF1();
    expect(runs).toEqual([expect.objectContaining({ flowId: 'f1', status: 'done' })]);
    const contact = await h.store.contacts.get(h.ws, runs[0]!.contactId);
    expect(contact?.identities).toEqual([{ channel: 'system', externalId: 'scheduler' }]);
  });

  it('should accept an HMAC-SHA256 signature of the raw body', async () => {
    const raw = '{"a": 1,  "b": [true]}';
    const signature = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
    await request(h.app).post(url).set('content-type', 'application/json').set('x-convoflow-signature', signature).send(raw).expect(202);
    const bad = `sha256=${createHmac('sha256', SECRET).update('{"a":1,"b":[true]}').digest('hex')}`;
    await request(h.app).post(url).set('content-type', 'application/json').set('x-convoflow-signature', bad).send(raw).expect(401);
    expect(await runsOfF1()).toHaveLength(1);
  });

  it('should answer 401 for a missing or wrong secret, before looking at the body', async () => {
    await request(h.app).post(url).send({}).expect(401);
    await request(h.app).post(url).set('x-convoflow-secret', `${SECRET}x`).send({}).expect(401);
    const res = await request(h.app).post(url).set('x-convoflow-secret', 'short').send([1]).expect(401);
    expect(res.body.errors).toBeUndefined();
    expect(await runsOfF1()).toEqual([]);
  });

  it('should answer 404 alike for unknown workspaces, flows, triggers and unpublished flows', async () => {
    await request(h.app).post(`/api/hooks/nope/f1/hook`).set('x-convoflow-secret', SECRET).expect(404);
    await request(h.app).post(`/api/hooks/${h.ws}/nope/hook`).set('x-convoflow-secret', SECRET).expect(404);
    await request(h.app).post(`/api/hooks/${h.ws}/f1/nope`).set('x-convoflow-secret', SECRET).expect(404);
    await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('draft-only')).expect(201);
    const res = await request(h.app).post(`/api/hooks/${h.ws}/draft-only/hook`).set('x-convoflow-secret', SECRET).expect(404);
    expect(res.body.detail).toBe('No published webhook trigger at this address.');
  });

  it('should refuse calls to a trigger without a secret (403)', async () => {
    const open = validFlow('open', { triggers: [{ id: 'hook', type: 'webhook', params: {} }] });
    await h.publish(open);
    await request(h.app).post(`/api/hooks/${h.ws}/open/hook`).send({}).expect(403);
    expect(await h.runs({ flowId: 'open' })).toEqual([]);
  });

  it('should start one run for the given contact per Idempotency-Key, and validate both', async () => {
    const contact = await h.store.contacts.create(h.ws, {}, [], h.clock.now);
    const first = await request(h.app).post(`${url}?contactId=${contact.id}`).set('x-convoflow-secret', SECRET).set('idempotency-key', 'evt-1').send({}).expect(202);
    const second = await request(h.app).post(`${url}?contactId=${contact.id}`).set('x-convoflow-secret', SECRET).set('idempotency-key', 'evt-1').send({}).expect(202);
    expect(second.body).toEqual({ accepted: false, journalId: first.body.journalId });
    expect(await runsOfF1()).toEqual([expect.objectContaining({ contactId: contact.id, status: 'done' })]);
    const unknown = await request(h.app).post(`${url}?contactId=ghost`).set('x-convoflow-secret', SECRET).send({}).expect(422);
    expect(unknown.body.errors).toEqual([{ field: 'query.contactId', message: 'no contact ghost in this workspace' }]);
    const notObject = await request(h.app).post(url).set('x-convoflow-secret', SECRET).send([1, 2]).expect(422);
    expect(notObject.body.errors[0].field).toBe('/');
  });
});
