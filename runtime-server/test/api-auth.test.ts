import request from 'supertest';
import { createHash } from 'node:crypto';
import { apiKeyPrefix, can, hashApiKey, mintApiKey, signEmbedToken, verifyEmbedToken } from '../src/index.js';
import { looksLikeApiKey } from '../src/auth/api-key.js';
import { EMBED_SECRET, matchesSchema, startApiEnv, validFlow, type ApiEnv, type Harness } from './api-support.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness();
});

describe('API keys', () => {
  it('should mint cf_ keys of 32 random bytes and store only their sha256', () => {
    const a = mintApiKey();
    const b = mintApiKey();
    expect(a).toMatch(/^cf_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(looksLikeApiKey(a)).toBe(true);
    expect(hashApiKey(a)).toBe(createHash('sha256').update(a).digest('hex'));
    expect(apiKeyPrefix(a)).toBe(a.slice(0, 10));
  });

  it('should store a hash, never the secret', async () => {
    const keys = await h.store.apiKeys.list(h.ws);
    const admin = keys.find((k) => k.id === h.keyIds.admin);
    expect(admin?.keyHash).toBe(hashApiKey(h.keys.admin));
    expect(JSON.stringify(keys)).not.toContain(h.keys.admin);
  });
});

describe('authentication', () => {
  it('should answer 401 with a Bearer challenge when no credential is sent', async () => {
    const res = await request(h.app).get('/api/flows').expect(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it('should answer 401 for a malformed header, an unknown key and a revoked key', async () => {
    await request(h.app).get('/api/flows').set('authorization', 'Basic abc').expect(401);
    await request(h.app).get('/api/flows').set('authorization', 'Bearer not-a-key').expect(401);
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${mintApiKey()}`).expect(401);
    await h.store.apiKeys.revoke(h.ws, h.keyIds.staff, h.clock.now);
    await request(h.app).get('/api/flows').set(h.auth('staff')).expect(401);
  });

  it('should accept an operator-chosen key that is not in the cf_ format (seeded admin key)', async () => {
    const secret = 'operator-chosen-admin-key';
    await h.store.apiKeys.insert({ id: 'seeded', workspaceId: h.ws, name: 'seed', role: 'admin', keyHash: hashApiKey(secret), prefix: apiKeyPrefix(secret), createdAt: h.clock.now });
    await request(h.app).get('/api/api-keys').set('authorization', `Bearer ${secret}`).expect(200);
    await request(h.app).get('/api/flows').set('authorization', 'Bearer short').expect(401);
  });

  it('should accept the scheme name in any case', async () => {
    await request(h.app).get('/api/flows').set('authorization', `bearer ${h.keys.staff}`).expect(200);
  });
});

describe('roles', () => {
  it('should grant by the documented matrix', () => {
    expect(can('staff', 'flows:write')).toBe(true);
    expect(can('staff', 'runs:manage')).toBe(true);
    for (const p of ['flows:publish', 'flows:delete', 'flows:rollback', 'apiKeys:manage'] as const) expect(can('staff', p)).toBe(false);
    expect(can('team_admin', 'flows:publish')).toBe(true);
    expect(can('team_admin', 'apiKeys:manage')).toBe(false);
    expect(can('admin', 'apiKeys:manage')).toBe(true);
    expect([can('staff', 'workspace:read'), can('team_admin', 'workspace:manage'), can('admin', 'workspace:manage')]).toEqual([true, false, true]);
  });

  it('should refuse staff publishing, deleting, rolling back and managing keys with 403', async () => {
    await request(h.app).post('/api/flows').set(h.auth('staff')).send(validFlow('f1')).expect(201);
    const forbidden = [
      request(h.app).post('/api/flows/f1/publish').set(h.auth('staff')),
      request(h.app).delete('/api/flows/f1').set(h.auth('staff')),
      request(h.app).post('/api/flows/f1/rollback').set(h.auth('staff')).send({ version: 1 }),
      request(h.app).get('/api/api-keys').set(h.auth('staff')),
      request(h.app).post('/api/api-keys').set(h.auth('staff')).send({ name: 'x', role: 'staff' }),
      request(h.app).delete(`/api/api-keys/${h.keyIds.admin}`).set(h.auth('staff')),
    ];
    for (const res of await Promise.all(forbidden)) {
      expect(res.status).toBe(403);
      expect(res.body.detail).toMatch(/staff/);
    }
  });

  it('should let team admins publish but not manage API keys or mint embed tokens', async () => {
    await request(h.app).post('/api/flows').set(h.auth('team_admin')).send(validFlow('f1')).expect(201);
    await request(h.app).post('/api/flows/f1/publish').set(h.auth('team_admin')).expect(201);
    await request(h.app).get('/api/api-keys').set(h.auth('team_admin')).expect(403);
    await request(h.app).post('/api/embed-tokens').set(h.auth('team_admin')).send({}).expect(403);
  });

  it('should check the role before validating the body', async () => {
    const res = await request(h.app).post('/api/api-keys').set(h.auth('staff')).send({ bad: true }).expect(403);
    expect(res.body.errors).toBeUndefined();
  });
});

describe('workspace scoping', () => {
  it('should not show or change another workspace\'s records', async () => {
    await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('f1')).expect(201);
    await request(h.app).get('/api/flows/f1').set(h.auth('other')).expect(404);
    await request(h.app).put('/api/flows/f1').set(h.auth('other')).set('if-match', '1').send(validFlow('f1')).expect(404);
    await request(h.app).delete('/api/flows/f1').set(h.auth('other')).expect(404);
    const list = await request(h.app).get('/api/flows').set(h.auth('other')).expect(200);
    expect(list.body.items).toEqual([]);
    const keys = await request(h.app).get('/api/api-keys').set(h.auth('other')).expect(200);
    expect(keys.body.items).toHaveLength(1);
    await request(h.app).delete(`/api/api-keys/${h.keyIds.staff}`).set(h.auth('other')).expect(404);
  });
});

describe('embed tokens', () => {
  it('should mint a token an admin asks for and accept it as a bearer credential', async () => {
    const res = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'team_admin', ttlSeconds: 600 }).expect(201);
    expect(matchesSchema('EmbedToken', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ workspaceId: h.ws, role: 'team_admin', expiresAt: h.clock.now + 600_000 });
    expect(res.headers['cache-control']).toBe('no-store');
    const token = res.body.token as string;
    expect(token.startsWith('cfe_')).toBe(true);
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${token}`).expect(200);
    await request(h.app).post('/api/flows').set('authorization', `Bearer ${token}`).send(validFlow('f1')).expect(201);
    await request(h.app).post('/api/flows/f1/publish').set('authorization', `Bearer ${token}`).expect(201);
  });

  it('should default to a staff token and apply the staff limits', async () => {
    const res = await request(h.app).post('/api/embed-tokens').set(h.auth()).expect(201);
    expect(res.body.role).toBe('staff');
    await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('f1')).expect(201);
    await request(h.app).post('/api/flows/f1/publish').set('authorization', `Bearer ${res.body.token}`).expect(403);
  });

  it('should refuse an admin embed token managing credentials', async () => {
    const { body } = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'admin' }).expect(201);
    const bearer = { authorization: `Bearer ${body.token}` };
    await request(h.app).get('/api/api-keys').set(bearer).expect(403);
    await request(h.app).post('/api/embed-tokens').set(bearer).send({}).expect(403);
  });

  it('should stop accepting the tokens a key minted once that key is revoked', async () => {
    // A second admin key mints, so revoking it is not refused as the workspace's last.
    const second = await request(h.app).post('/api/api-keys').set(h.auth()).send({ name: 'integration', role: 'admin' }).expect(201);
    const minter = { authorization: `Bearer ${second.body.secret as string}` };
    const { body } = await request(h.app).post('/api/embed-tokens').set(minter).send({ role: 'admin' }).expect(201);
    const bearer = { authorization: `Bearer ${body.token as string}` };
    await request(h.app).post('/api/flows').set(bearer).send(validFlow('f1')).expect(201);

    await request(h.app).delete(`/api/api-keys/${second.body.apiKey.id as string}`).set(h.auth()).expect(204);
    const res = await request(h.app).post('/api/flows/f1/publish').set(bearer).expect(401);
    expect(res.body.detail).toBe('The embed token was minted with an API key that has been revoked.');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="convoflow"');
    // Tokens minted by keys still active keep working.
    const other = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'staff' }).expect(201);
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${other.body.token as string}`).expect(200);
  });

  it('should refuse a well-signed token naming a key that does not exist', async () => {
    const token = signEmbedToken({ workspaceId: h.ws, role: 'admin', iat: Math.floor(h.clock.now / 1000), exp: Math.floor(h.clock.now / 1000) + 60, sub: 'key_nobody' }, EMBED_SECRET);
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${token}`).expect(401);
  });

  it('should refuse an expired token once the clock passes exp', async () => {
    const { body } = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ ttlSeconds: 60 }).expect(201);
    h.clock.now += 61_000;
    const res = await request(h.app).get('/api/flows').set('authorization', `Bearer ${body.token}`).expect(401);
    expect(res.body.detail).toMatch(/expired/);
  });

  it('should refuse a tampered or foreign-signed token', async () => {
    const { body } = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'staff' }).expect(201);
    const [payload, sig] = (body.token as string).slice(4).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `cfe_${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${sig}`;
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${forged}`).expect(401);
    const foreign = signEmbedToken({ ...claims, role: 'admin' }, 'another-secret-of-at-least-32-bytes!!');
    await request(h.app).get('/api/flows').set('authorization', `Bearer ${foreign}`).expect(401);
  });

  it('should cap the lifetime and validate the body', async () => {
    const long = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ ttlSeconds: 86_400 }).expect(422);
    expect(long.body.errors).toEqual([{ field: '/ttlSeconds', message: 'must be at most 3600' }]);
    const bad = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'root' }).expect(422);
    expect(bad.body.errors[0]).toMatchObject({ field: '/role' });
  });

  it('should verify signatures and expiry as a pure function', () => {
    const token = signEmbedToken({ workspaceId: 'w', role: 'staff', iat: 100, exp: 200, sub: 'k' }, EMBED_SECRET);
    expect(verifyEmbedToken(token, EMBED_SECRET, 150)).toEqual({ ok: true, claims: { workspaceId: 'w', role: 'staff', iat: 100, exp: 200, sub: 'k' } });
    expect(verifyEmbedToken(token, EMBED_SECRET, 200)).toEqual({ ok: false, problem: 'expired' });
    expect(verifyEmbedToken(`${token}x`, EMBED_SECRET, 150)).toEqual({ ok: false, problem: 'bad_signature' });
    expect(verifyEmbedToken('cfe_nodot', EMBED_SECRET, 150)).toEqual({ ok: false, problem: 'malformed' });
  });
});
