import request from 'supertest';
import { createHarness, matchesSchema, type Harness } from './api-support.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const journalOf = (contactId: string) => h.store.journal.pendingForKey(`${h.ws}/${contactId}`, 50);

describe('contacts', () => {
  it('should create a contact and tell the runtime (contact journaled as created)', async () => {
    const res = await request(h.app)
      .post('/api/contacts')
      .set(h.auth('staff'))
      .send({ fields: { name: 'Ann', email: 'ann@example.com' }, identities: [{ channel: 'whatsapp', externalId: '+15550001' }] })
      .expect(201);
    expect(matchesSchema('Contact', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ fields: { name: 'Ann', email: 'ann@example.com' }, identities: [{ channel: 'whatsapp', externalId: '+15550001' }] });
    expect(res.headers.location).toBe(`/api/contacts/${res.body.id}`);
    const entries = await journalOf(res.body.id);
    expect(entries.map((e) => e.payload)).toEqual([{ contactId: res.body.id, created: true, changedFields: ['name', 'email'] }]);
  });

  it('should answer 409 when a channel identity belongs to another contact', async () => {
    const body = { fields: {}, identities: [{ channel: 'sms', externalId: '+1' }] };
    await request(h.app).post('/api/contacts').set(h.auth()).send(body).expect(201);
    await request(h.app).post('/api/contacts').set(h.auth()).send(body).expect(409);
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

  it('should patch fields and tell the runtime which ones changed', async () => {
    const created = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { name: 'Ann', tier: 'free' } }).expect(201);
    const id = created.body.id as string;
    const res = await request(h.app).patch(`/api/contacts/${id}`).set(h.auth('staff')).send({ fields: { name: 'Ann', tier: 'gold' } }).expect(200);
    expect(res.body.fields).toEqual({ name: 'Ann', tier: 'gold' });
    const unchanged = await request(h.app).patch(`/api/contacts/${id}`).set(h.auth()).send({ fields: { tier: 'gold' } }).expect(200);
    expect(unchanged.body.fields.tier).toBe('gold');
    const payloads = (await journalOf(id)).map((e) => e.payload);
    expect(payloads).toEqual([
      { contactId: id, created: true, changedFields: ['name', 'tier'] },
      { contactId: id, created: false, changedFields: ['tier'] },
    ]);
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
