import request from 'supertest';
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
  h = await env.harness();
});

const end: [string, string, Record<string, never>] = ['end', 'end', {}];
/** Flows that start on contact events and end at once; their runs show what the runtime was told. */
const onCreated = chainFlow('on-created', { id: 'created', type: 'contact.created', params: {} }, [end]);
const onTier = chainFlow('on-tier', { id: 'tier', type: 'contact.updated', params: { fields: ['tier'] } }, [end]);
const onEmail = chainFlow('on-email', { id: 'email', type: 'contact.updated', params: { fields: ['email'] } }, [end]);

describe('contacts', () => {
  it('should create a contact and fire contact.created flows for it', async () => {
    await h.publish(onCreated);
    await h.publish(onTier);
    const res = await request(h.app)
      .post('/api/contacts')
      .set(h.auth('staff'))
      .send({ fields: { name: 'Ann', email: 'ann@example.com' }, identities: [{ channel: 'whatsapp', externalId: '+15550001' }] })
      .expect(201);
    expect(matchesSchema('Contact', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ fields: { name: 'Ann', email: 'ann@example.com' }, identities: [{ channel: 'whatsapp', externalId: '+15550001' }] });
    expect(res.headers.location).toBe(`/api/contacts/${res.body.id}`);
    const runs = await h.runs();
    expect(runs).toEqual([expect.objectContaining({ flowId: 'on-created', contactId: res.body.id, status: 'done' })]);
  });

  it('should answer 409 naming the identity that belongs to another contact, and whose, and store nothing', async () => {
    const body = { fields: {}, identities: [{ channel: 'sms', externalId: '+1' }] };
    const first = await request(h.app).post('/api/contacts').set(h.auth()).send(body).expect(201);
    const res = await request(h.app)
      .post('/api/contacts')
      .set(h.auth())
      .send({ fields: { name: 'Bo' }, identities: [{ channel: 'whatsapp', externalId: '+2' }, { channel: 'sms', externalId: '+1' }] })
      .expect(409);
    expect(res.body).toMatchObject({ status: 409, detail: 'A channel identity can belong to one contact only; update that contact instead.' });
    expect(res.body.errors).toEqual([{ field: '/identities/1', message: `belongs to contact ${first.body.id}` }]);
    expect((await h.store.contacts.list(h.ws)).items.map((c) => c.id)).toEqual([first.body.id]);
    expect(await h.store.contacts.findByIdentity(h.ws, { channel: 'whatsapp', externalId: '+2' })).toBeUndefined();
  });

  it('should answer 422 naming bad fields', async () => {
    const res = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: 'Ann', identities: [{ channel: '' }], age: 3 }).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(
      ['/age', '/fields', '/identities/0/channel', '/identities/0/externalId'].sort(),
    );
  });

  it('should list with paging and get one', async () => {
    for (const name of ['A', 'B', 'C']) await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { name } }).expect(201);
    const page = await request(h.app).get('/api/contacts?limit=2').set(h.auth('staff')).expect(200);
    expect(matchesSchema('ContactList', page.body)).toEqual([]);
    expect(page.body.items).toHaveLength(2);
    const rest = await request(h.app).get(`/api/contacts?limit=2&cursor=${encodeURIComponent(page.body.next)}`).set(h.auth()).expect(200);
    expect(rest.body.items).toHaveLength(1);
    const one = await request(h.app).get(`/api/contacts/${rest.body.items[0].id}`).set(h.auth()).expect(200);
    expect(one.body.id).toBe(rest.body.items[0].id);
    await request(h.app).get('/api/contacts/nobody').set(h.auth()).expect(404);
    await request(h.app).get(`/api/contacts/${one.body.id}`).set(h.auth('other')).expect(404);
    await request(h.app).get('/api/contacts?limit=many').set(h.auth()).expect(422);
  });

  it('should patch fields and fire the contact.updated flows watching a field that changed', async () => {
    await h.publish(onTier);
    await h.publish(onEmail);
    const created = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { name: 'Ann', tier: 'free' } }).expect(201);
    const id = created.body.id as string;
    expect(await h.runs()).toEqual([]);
    const res = await request(h.app).patch(`/api/contacts/${id}`).set(h.auth('staff')).send({ fields: { name: 'Ann', tier: 'gold' } }).expect(200);
    expect(res.body.fields).toEqual({ name: 'Ann', tier: 'gold' });
    expect(await h.runs()).toEqual([expect.objectContaining({ flowId: 'on-tier', contactId: id, status: 'done' })]);
    // Writing the value it already has changes nothing, so nothing fires.
    const unchanged = await request(h.app).patch(`/api/contacts/${id}`).set(h.auth()).send({ fields: { tier: 'gold' } }).expect(200);
    expect(unchanged.body.fields.tier).toBe('gold');
    expect(await h.runs()).toHaveLength(1);
    await request(h.app).patch(`/api/contacts/${id}`).set(h.auth()).send({ fields: { email: 'ann@example.com' } }).expect(200);
    expect((await h.runs()).map((r) => r.flowId).sort()).toEqual(['on-email', 'on-tier']);
  });

  it('should answer 404 and 422 on bad patches', async () => {
    await request(h.app).patch('/api/contacts/nobody').set(h.auth()).send({ fields: { a: 1 } }).expect(404);
    const created = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: {} }).expect(201);
    const res = await request(h.app).patch(`/api/contacts/${created.body.id}`).set(h.auth()).send({ fields: {} }).expect(422);
    expect(res.body.errors[0].field).toBe('/fields');
  });
});

describe('catalogue', () => {
  it('should list every manifest, each valid against the NodeManifest schema', async () => {
    const res = await request(h.app).get('/api/catalogue').set(h.auth('staff')).expect(200);
    expect(matchesSchema('Catalogue', res.body)).toEqual([]);
    const types = (res.body.items as { type: string; typeVersion: number }[]).map((m) => `${m.type}@${m.typeVersion}`);
    expect(types).toEqual(expect.arrayContaining(['end@1', 'send_text@1', 'send_buttons@1', 'condition@1']));
    await request(h.app).get('/api/catalogue').expect(401);
  });
});
