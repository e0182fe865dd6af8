import request from 'supertest';
import { createHarness, matchesSchema, seedRun, type Harness } from './api-support.js';

let h: Harness;
let contactId: string;
beforeEach(async () => {
  h = await createHarness();
  contactId = (await h.store.contacts.create(h.ws, { name: 'Ann' }, [], h.clock.now)).id;
});
afterEach(async () => {
  await h.close();
});

const seed = (status: 'running' | 'waiting' | 'done' | 'failed' | 'cancelled', flowId = 'f1', at = h.clock.now) =>
  seedRun(h.store, { workspaceId: h.ws, flowId, contactId, status, at });

describe('listing runs', () => {
  it('should list runs with filters and without snapshots', async () => {
    const a = await seed('waiting', 'f1', 1);
    await seed('failed', 'f2', 2);
    await seed('done', 'f1', 3);
    const all = await request(h.app).get('/api/runs').set(h.auth('staff')).expect(200);
    expect(matchesSchema('RunList', all.body)).toEqual([]);
    expect(all.body.items).toHaveLength(3);
    expect(JSON.stringify(all.body)).not.toContain('snapshot');
    const waiting = await request(h.app).get('/api/runs?status=waiting').set(h.auth()).expect(200);
    expect(waiting.body.items.map((r: { id: string }) => r.id)).toEqual([a.id]);
    const f2 = await request(h.app).get(`/api/runs?flowId=f2&contactId=${contactId}`).set(h.auth()).expect(200);
    expect(f2.body.items).toHaveLength(1);
    expect(f2.body.items[0].flowId).toBe('f2');
  });

  it('should page with limit and cursor', async () => {
    for (let i = 0; i < 3; i++) await seed('done', 'f1', i + 1);
    const first = await request(h.app).get('/api/runs?limit=2').set(h.auth()).expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(typeof first.body.next).toBe('string');
    const second = await request(h.app).get(`/api/runs?limit=2&cursor=${encodeURIComponent(first.body.next)}`).set(h.auth()).expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeUndefined();
  });

  it('should answer 422 naming bad query parameters', async () => {
    const res = await request(h.app).get('/api/runs?status=sleeping&limit=0').set(h.auth()).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['query.limit', 'query.status']);
    const repeated = await request(h.app).get('/api/runs?limit=1&limit=2').set(h.auth()).expect(422);
    expect(repeated.body.errors).toEqual([{ field: 'query.limit', message: 'must be given once' }]);
    const cursor = await request(h.app).get('/api/runs?cursor=garbage').set(h.auth()).expect(422);
    expect(cursor.body.errors).toEqual([{ field: 'query.cursor', message: 'is not a cursor this server handed out' }]);
  });

  it('should not list runs of another workspace', async () => {
    await seed('done');
    const res = await request(h.app).get('/api/runs').set(h.auth('other')).expect(200);
    expect(res.body.items).toEqual([]);
  });
});

describe('one run', () => {
  it('should return the run with its step log and path', async () => {
    const run = await seed('waiting');
    const res = await request(h.app).get(`/api/runs/${run.id}`).set(h.auth('staff')).expect(200);
    expect(matchesSchema('RunDetail', res.body)).toEqual([]);
    expect(res.body.run).toMatchObject({ id: run.id, status: 'waiting', flowId: 'f1', contactId });
    expect(res.body.run.snapshot).toBeUndefined();
    expect(res.body.steps).toEqual([expect.objectContaining({ stepNo: 0, event: 'run.started', status: 'waiting' })]);
    expect(res.body.path).toEqual([{ nodeId: 'done', output: 'next', at: h.clock.now }]);
  });

  it('should answer 404 for an unknown run and another workspace\'s run', async () => {
    const run = await seed('waiting');
    await request(h.app).get('/api/runs/run_nope').set(h.auth()).expect(404);
    await request(h.app).get(`/api/runs/${run.id}`).set(h.auth('other')).expect(404);
    await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth('other')).expect(404);
  });
});

describe('cancel and retry', () => {
  it('should cancel a run that has not ended, and answer 409 once it has', async () => {
    const run = await seed('waiting');
    const res = await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth('staff')).expect(200);
    expect(matchesSchema('Run', res.body)).toEqual([]);
    expect(res.body.status).toBe('cancelled');
    const again = await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth()).expect(409);
    expect(again.body.detail).toMatch(/already ended \(cancelled\)/);
  });

  it('should retry a failed run, and answer 409 for one that has not failed', async () => {
    const failed = await seed('failed');
    const res = await request(h.app).post(`/api/runs/${failed.id}/retry`).set(h.auth('staff')).expect(200);
    expect(res.body.status).toBe('running');
    const waiting = await seed('waiting');
    const refused = await request(h.app).post(`/api/runs/${waiting.id}/retry`).set(h.auth()).expect(409);
    expect(refused.body).toMatchObject({ status: 409, type: 'https://convoflow.dev/problems/run-not-failed' });
    await request(h.app).post('/api/runs/run_nope/retry').set(h.auth()).expect(404);
  });
});
