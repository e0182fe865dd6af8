import request from 'supertest';
import { createHarness, matchesSchema, type Harness } from './api-support.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness({ simulatorMaxWaitMs: 200 });
});
afterEach(async () => {
  await h.close();
});

describe('simulator channel', () => {
  it('should journal a simulator message from the contact (202)', async () => {
    const res = await request(h.app).post('/api/simulator/messages').set(h.auth('staff')).send({ contact: 'alice', text: 'hi', messageId: 'm1' }).expect(202);
    expect(matchesSchema('Accepted', res.body)).toEqual([]);
    expect(res.body.accepted).toBe(true);
    const contact = await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'alice' });
    const [entry] = await h.store.journal.pendingForKey(`${h.ws}/${contact!.id}`, 10);
    expect(entry).toMatchObject({
      kind: 'message',
      dedupeKey: 'msg:simulator:m1',
      payload: { message: { id: 'm1', channel: 'simulator', from: 'alice', text: 'hi', sentAt: h.clock.now } },
    });
  });

  it('should treat a repeated messageId as a redelivery', async () => {
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'hi', messageId: 'm1' }).expect(202);
    const again = await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'hi', messageId: 'm1' }).expect(202);
    expect(again.body.accepted).toBe(false);
  });

  it('should pass a button press as replyTo', async () => {
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'bob', replyTo: 'products' }).expect(202);
    const contact = await h.store.contacts.findByIdentity(h.ws, { channel: 'simulator', externalId: 'bob' });
    const [entry] = await h.store.journal.pendingForKey(`${h.ws}/${contact!.id}`, 10);
    expect(entry?.payload.message).toMatchObject({ replyTo: 'products', from: 'bob' });
  });

  it('should answer 422 naming what is missing', async () => {
    const none = await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ text: 'hi' }).expect(422);
    expect(none.body.errors).toEqual([{ field: '/contact', message: 'is required' }]);
    const empty = await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice' }).expect(422);
    expect(empty.body.errors).toEqual([{ field: '/', message: 'must have one of: text, replyTo' }]);
  });

  it('should return the transcript after a seq', async () => {
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'one' }).expect(202);
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'two' }).expect(202);
    const all = await request(h.app).get('/api/simulator/messages?contact=alice').set(h.auth('staff')).expect(200);
    expect(matchesSchema('SimulatorTranscript', all.body)).toEqual([]);
    expect(all.body.items.map((m: { message: { text: string } }) => m.message.text)).toEqual(['echo: one', 'echo: two']);
    const first = all.body.items[0].seq as number;
    const newer = await request(h.app).get(`/api/simulator/messages?contact=alice&after=${first}`).set(h.auth()).expect(200);
    expect(newer.body.items.map((m: { message: { text: string } }) => m.message.text)).toEqual(['echo: two']);
    expect(newer.body.after).toBe(all.body.after);
  });

  it('should return an empty transcript for an unknown contact, also after a bounded wait', async () => {
    const res = await request(h.app).get('/api/simulator/messages?contact=nobody&after=5&wait=60000').set(h.auth()).expect(200);
    expect(res.body).toEqual({ items: [], after: 5 });
  });

  it('should return at once when a long poll already has messages', async () => {
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'x' }).expect(202);
    const res = await request(h.app).get('/api/simulator/messages?contact=alice&wait=60000').set(h.auth()).expect(200);
    expect(res.body.items).toHaveLength(1);
  });

  it('should answer 422 for bad query parameters and keep workspaces apart', async () => {
    const res = await request(h.app).get('/api/simulator/messages?after=-1').set(h.auth()).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['query.after', 'query.contact']);
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'alice', text: 'mine' }).expect(202);
    const other = await request(h.app).get('/api/simulator/messages?contact=alice').set(h.auth('other')).expect(200);
    expect(other.body.items).toEqual([]);
  });
});
