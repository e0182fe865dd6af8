import request from 'supertest';
import { matchesSchema, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness();
});

describe('API key management', () => {
  it('should create a key, return its secret once, and accept it', async () => {
    const res = await request(h.app).post('/api/api-keys').set(h.auth()).send({ name: 'CI', role: 'staff' }).expect(201);
    expect(matchesSchema('ApiKeyCreated', res.body)).toEqual([]);
    expect(res.body.secret).toMatch(/^cf_[A-Za-z0-9_-]{43}$/);
    expect(res.body.apiKey).toMatchObject({ name: 'CI', role: 'staff', prefix: res.body.secret.slice(0, 10) });
    expect(res.headers['cache-control']).toBe('no-store');
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${res.body.secret}`).expect(200);
    await request(h.app).get('/api/api-keys').set('authorization', `Bearer ${res.body.secret}`).expect(403);
  });

  it('should list keys without secrets or hashes', async () => {
    const res = await request(h.app).get('/api/api-keys').set(h.auth()).expect(200);
    expect(matchesSchema('ApiKeyList', res.body)).toEqual([]);
    expect(res.body.items.map((k: { role: string }) => k.role).sort()).toEqual(['admin', 'staff', 'team_admin']);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('keyHash');
    for (const secret of Object.values(h.keys)) expect(text).not.toContain(secret);
  });

  it('should revoke a key so it stops working at once, and 404 a second time', async () => {
    // Used first, so its lookup is cached: the revocation must still take effect at once.
    await request(h.app).get('/api/flows').set(h.auth('staff')).expect(200);
    await request(h.app).delete(`/api/api-keys/${h.keyIds.staff}`).set(h.auth()).expect(204);
    await request(h.app).get('/api/flows').set(h.auth('staff')).expect(401);
    const listed = await request(h.app).get('/api/api-keys').set(h.auth()).expect(200);
    expect(listed.body.items.find((k: { id: string }) => k.id === h.keyIds.staff).revokedAt).toBe(h.clock.now);
    await request(h.app).delete(`/api/api-keys/${h.keyIds.staff}`).set(h.auth()).expect(404);
  });

  it('should refuse (409) to revoke the last active admin key, and allow it once another admin key exists', async () => {
    const res = await request(h.app).delete(`/api/api-keys/${h.keyIds.admin}`).set(h.auth()).expect(409);
    expect(res.body).toMatchObject({ status: 409, errors: [{ field: 'path.id', message: 'is the last active admin key of the workspace' }] });
    expect(res.body.detail).toMatch(/Create another admin key first/);
    await request(h.app).get('/api/api-keys').set(h.auth()).expect(200);
    const second = await request(h.app).post('/api/api-keys').set(h.auth()).send({ name: 'second admin', role: 'admin' }).expect(201);
    await request(h.app).delete(`/api/api-keys/${h.keyIds.admin}`).set({ authorization: `Bearer ${second.body.secret}` }).expect(204);
    await request(h.app).get('/api/api-keys').set(h.auth()).expect(401);
    await request(h.app).delete(`/api/api-keys/${second.body.apiKey.id}`).set({ authorization: `Bearer ${second.body.secret}` }).expect(409);
  });

  it('should answer 422 naming bad fields', async () => {
    const res = await request(h.app).post('/api/api-keys').set(h.auth()).send({ name: '', role: 'owner' }).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['/name', '/role']);
    const missing = await request(h.app).post('/api/api-keys').set(h.auth()).send({}).expect(422);
    expect(missing.body.errors).toEqual([
      { field: '/name', message: 'is required' },
      { field: '/role', message: 'is required' },
    ]);
  });
});
