import { createHmac } from 'node:crypto';
import request from 'supertest';
import { createHarness, matchesSchema, validFlow, type Harness } from './api-support.js';

const SECRET = 'hook-secret-0123456789';
let h: Harness;
let url: string;

beforeEach(async () => {
  h = await createHarness();
  await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('f1')).expect(201);
  await request(h.app).post('/api/flows/f1/publish').set(h.auth()).expect(201);
  url = `/api/hooks/${h.ws}/f1/hook`;
});
afterEach(async () => {
  await h.close();
});

const journaled = () => h.store.journal.pendingForKey(`${h.ws}/webhook/f1`, 50);

describe('webhook triggers', () => {
  it('should journal a call with the secret in the header (202)', async () => {
    const res = await request(h.app).post(url).set('x-convoflow-secret', SECRET).send({ order: 7 }).expect(202);
    expect(matchesSchema('Accepted', res.body)).toEqual([]);
    const [entry] = await journaled();
    expect(entry).toMatchObject({ id: res.body.journalId, kind: 'webhook', payload: { flowId: 'f1', triggerId: 'hook', body: { order: 7 } } });
  });

  it('should accept the secret as a query parameter and an empty body', async () => {
    await request(h.app).post(`${url}?secret=${SECRET}`).expect(202);
    const [entry] = await journaled();
    expect(entry?.payload.body).toEqual({});
  });

  it('should accept an HMAC-SHA256 signature of the raw body', async () => {
    const raw = '{"a": 1,  "b": [true]}';
    const signature = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
    await request(h.app).post(url).set('content-type', 'application/json').set('x-convoflow-signature', signature).send(raw).expect(202);
    const bad = `sha256=${createHmac('sha256', SECRET).update('{"a":1,"b":[true]}').digest('hex')}`;
    await request(h.app).post(url).set('content-type', 'application/json').set('x-convoflow-signature', bad).send(raw).expect(401);
  });

  it('should answer 401 for a missing or wrong secret, before looking at the body', async () => {
    await request(h.app).post(url).send({}).expect(401);
    await request(h.app).post(url).set('x-convoflow-secret', `${SECRET}x`).send({}).expect(401);
    const res = await request(h.app).post(url).set('x-convoflow-secret', 'short').send([1]).expect(401);
    expect(res.body.errors).toBeUndefined();
    expect(await journaled()).toEqual([]);
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
    await request(h.app).post('/api/flows').set(h.auth()).send(open).expect(201);
    await request(h.app).post('/api/flows/open/publish').set(h.auth()).expect(201);
    await request(h.app).post(`/api/hooks/${h.ws}/open/hook`).send({}).expect(403);
  });

  it('should pass contactId and Idempotency-Key through and validate them', async () => {
    const contact = await h.store.contacts.create(h.ws, {}, [], h.clock.now);
    const first = await request(h.app).post(`${url}?contactId=${contact.id}`).set('x-convoflow-secret', SECRET).set('idempotency-key', 'evt-1').send({}).expect(202);
    const second = await request(h.app).post(`${url}?contactId=${contact.id}`).set('x-convoflow-secret', SECRET).set('idempotency-key', 'evt-1').send({}).expect(202);
    expect(second.body).toEqual({ accepted: false, journalId: first.body.journalId });
    const unknown = await request(h.app).post(`${url}?contactId=ghost`).set('x-convoflow-secret', SECRET).send({}).expect(422);
    expect(unknown.body.errors).toEqual([{ field: 'query.contactId', message: 'no contact ghost in this workspace' }]);
    const notObject = await request(h.app).post(url).set('x-convoflow-secret', SECRET).send([1, 2]).expect(422);
    expect(notObject.body.errors[0].field).toBe('/');
  });
});
