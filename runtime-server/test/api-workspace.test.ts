import request from 'supertest';
import { chainFlow, matchesSchema, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness();
});

const DEFAULTS = { interruptKeywords: [], allowPrivateNetwork: false, timezone: 'UTC' };

describe('GET /api/workspace', () => {
  it.each(['admin', 'team_admin', 'staff'] as const)('should show the workspace and its settings to %s', async (role) => {
    const res = await request(h.app).get('/api/workspace').set(h.auth(role)).expect(200);
    expect(matchesSchema('Workspace', res.body)).toEqual([]);
    expect(res.body.workspace).toEqual({ id: h.ws, name: 'Acme', createdAt: expect.any(Number), settings: DEFAULTS });
  });

  it('should need a credential', async () => {
    await request(h.app).get('/api/workspace').expect(401);
  });
});

describe('PATCH /api/workspace/settings', () => {
  const patch = (body: unknown, role: Parameters<Harness['auth']>[0] = 'admin') =>
    request(h.app).patch('/api/workspace/settings').set(h.auth(role)).send(body as object);

  it('should change the settings named, keep the others, and leave other workspaces alone', async () => {
    const res = await patch({ interruptKeywords: ['  Stop ', 'talk to a human'], timezone: 'Asia/Singapore' }).expect(200);
    expect(res.body.workspace.settings).toEqual({ interruptKeywords: ['Stop', 'talk to a human'], allowPrivateNetwork: false, timezone: 'Asia/Singapore' });
    await patch({ allowPrivateNetwork: true }).expect(200);
    const read = await request(h.app).get('/api/workspace').set(h.auth('staff')).expect(200);
    expect(read.body.workspace.settings).toEqual({ interruptKeywords: ['Stop', 'talk to a human'], allowPrivateNetwork: true, timezone: 'Asia/Singapore' });
    const other = await request(h.app).get('/api/workspace').set(h.auth('other')).expect(200);
    expect(other.body.workspace.settings).toEqual(DEFAULTS);
    await patch({ interruptKeywords: [] }).expect(200);
    expect((await env.store.workspaces.get(h.ws))?.settings.interruptKeywords).toEqual([]);
  });

  it('should let only admins change settings, and never through an embed token', async () => {
    await patch({ timezone: 'Europe/Berlin' }, 'team_admin').expect(403);
    await patch({ timezone: 'Europe/Berlin' }, 'staff').expect(403);
    const minted = await request(h.app).post('/api/embed-tokens').set(h.auth()).send({ role: 'admin' }).expect(201);
    const res = await request(h.app)
      .patch('/api/workspace/settings')
      .set('authorization', `Bearer ${minted.body.token as string}`)
      .send({ allowPrivateNetwork: true })
      .expect(403);
    expect(res.body.detail).toBe('Embed tokens cannot manage credentials or workspace settings; use an admin API key.');
    expect((await env.store.workspaces.get(h.ws))?.settings).toEqual(DEFAULTS);
  });

  it.each([
    [{}, '/', 'must NOT have fewer than 1 properties'],
    [{ timezone: 'Mars/Olympus_Mons' }, '/timezone', '"Mars/Olympus_Mons" is not an IANA time zone (such as Europe/Berlin or UTC)'],
    [{ interruptKeywords: ['stop', 'ＳＴＯＰ '] }, '/interruptKeywords/1', 'matches the same messages as /interruptKeywords/0 ("stop")'],
    [{ interruptKeywords: ['   '] }, '/interruptKeywords/0', 'must match pattern "\\S"'],
    [{ interruptKeywords: 'stop' }, '/interruptKeywords', 'must be array'],
    [{ allowPrivateNetwork: 'yes' }, '/allowPrivateNetwork', 'must be boolean'],
    [{ language: 'en' }, '/language', 'is not allowed here'],
  ])('should refuse %j naming %s, and change nothing', async (body, field, message) => {
    const res = await patch(body).expect(422);
    expect(res.body.errors).toContainEqual({ field, message });
    expect((await env.store.workspaces.get(h.ws))?.settings).toEqual(DEFAULTS);
  });

  it('should have a waiting run interrupted by a keyword added a moment ago', async () => {
    const ask = chainFlow('ask', { id: 'kw', type: 'keyword', params: { keywords: ['quote'], match: 'exact' } }, [
      ['q', 'ask_question', { question: 'Which size?', answerType: 'text' }, 'answered'],
      ['thanks', 'send_text', { text: 'Thanks' }],
    ]);
    ask.edges.push({ id: 'late', source: 'q', sourceOutput: 'timeout', target: 'thanks' });
    await h.publish(ask);
    const say = (text: string) => request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'bob', text }).expect(202);
    await say('quote');
    expect((await h.runs()).map((r) => r.status)).toEqual(['waiting']);
    // Read (and cached) by the runtime with the message above; the change must not wait for the cache.
    await patch({ interruptKeywords: ['halt'] }).expect(200);
    await say('HALT');
    expect((await h.runs()).map((r) => r.status)).toEqual(['cancelled']);
  });
});
