import request from 'supertest';
import type { Application } from 'express';
import { requestListener } from '../src/app.js';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

// A store of its own: these tests cap its size.
let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness();
});
afterEach(() => {
  env.store.db.pragma('max_page_count = 1073741823');
});

const echoFlow = chainFlow('echo', { id: 'any', type: 'message.received', params: {} }, [['reply', 'send_text', { text: 'echo' }]]);

describe.each([
  ['Express', (app: Application) => app],
  ['the fast lane', requestListener],
])('a full disk, through %s', (_lane, serve) => {
  it('should answer 503 with Retry-After, write nothing, and take the same message once there is room', async () => {
    await h.publish(echoFlow);
    await h.settle();
    // SQLite answers SQLITE_FULL, as on a full disk, once the file may not grow.
    env.store.db.pragma(`max_page_count = ${env.store.db.pragma('page_count', { simple: true }) as number}`);
    const text = 'x'.repeat(4_000);
    const accepted: string[] = [];
    let refused: request.Response | undefined;
    for (let i = 0; i < 500 && !refused; i++) {
      const res = await request(serve(h.app)).post('/api/simulator/messages').set(h.auth()).send({ contact: `c${i % 5}`, text, messageId: `m${i}` });
      if (res.status === 202) accepted.push(`m${i}`);
      else refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers['retry-after']).toBe('5');
    expect(refused?.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused?.body).toMatchObject({ type: 'https://convoflow.dev/problems/unavailable', detail: "The server's storage is full, so nothing was written; retry later." });
    const refusedId = `m${accepted.length}`;
    const journaled = env.store.db.prepare('SELECT count(*) AS n FROM journal WHERE workspace_id = ? AND dedupe_key LIKE ?');
    expect(journaled.get(h.ws, `%:${refusedId}`)).toEqual({ n: 0 });

    env.store.db.pragma('max_page_count = 1073741823');
    const again = await request(serve(h.app)).post('/api/simulator/messages').set(h.auth()).send({ contact: 'c0', text, messageId: refusedId }).expect(202);
    // It was not written the first time, so it is new now, and it runs like the others.
    expect(again.body.accepted).toBe(true);
    expect(journaled.get(h.ws, `%:${refusedId}`)).toEqual({ n: 1 });
    await h.settle();
    const runs = await h.runs({ limit: '100' });
    expect(runs).toHaveLength(accepted.length + 1);
    expect(runs.every((r) => r.status === 'done')).toBe(true);
    env.takeProblems(); // the runtime's own commits failed meanwhile, and were retried
  });
});
