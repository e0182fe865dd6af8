import request from 'supertest';
import type { Application } from 'express';
import { requestListener } from '../src/app.js';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { waitFor } from './support/wait-for.js';

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
  env.store.db.pragma('query_only = 0');
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
    // Logged as a state of the deployment, with its reason: a warning, not an error with a stack.
    const logged = h.logs.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string; err?: unknown });
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    expect(logged).toContainEqual(expect.objectContaining({ level: 40, msg: 'request refused: the store cannot serve it now', reason: expect.stringMatching(/full/) }));
    // One line per refused request: its access line carries the reason.
    expect(h.logs.filter((l) => l.includes(String(refused?.headers['x-request-id'])))).toHaveLength(1);
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

describe('a disk that fills between a message\'s acknowledgement and its run', () => {
  it('should keep the message pending, not failed, and run it once there is room', async () => {
    // The reply repeats the text: the run's commit needs several pages more than the append.
    await h.publish(chainFlow('parrot', { id: 'any', type: 'message.received', params: {} }, [['reply', 'send_text', { text: 'you said {{trigger.message.text}}' }]]));
    await h.settle();
    const db = env.store.db;
    // A file that may not grow, with three free pages inside: room for the journal append, not
    // for the run's commit (its snapshot, conversation and reply each carry the 4 KB text).
    db.exec('CREATE TABLE IF NOT EXISTS scratch (x BLOB)');
    db.pragma('incremental_vacuum'); // no free pages left over from earlier tests
    db.prepare('INSERT INTO scratch VALUES (?)').run(Buffer.alloc(3 * 4096));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    db.exec('DELETE FROM scratch');

    const res = await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'dana', text: 'z'.repeat(4_000), messageId: 'late' });
    expect(res.status).toBe(202);
    const status = db.prepare("SELECT status FROM journal WHERE workspace_id = ? AND kind = 'message' AND dedupe_key LIKE '%:late'");
    // The runtime tries, fails to commit, and leaves it: an acknowledged message is never "failed".
    await waitFor(() => env.takeProblems().some((p) => p.includes('journal entries deferred')));
    expect(status.get(h.ws)).toEqual({ status: 'pending' });
    expect((await request(h.app).get('/api/runs').set(h.auth()).expect(200)).body.items).toEqual([]);

    db.pragma('max_page_count = 1073741823');
    await h.settle();
    expect(status.get(h.ws)).toEqual({ status: 'processed' });
    expect((await h.runs()).map((r) => r.status)).toEqual(['done']);
  });
});

describe('a database that may not be written (a file system remounted read-only)', () => {
  it('should answer 503 with Retry-After, and take the same message once it may', async () => {
    await h.publish(echoFlow);
    await h.settle();
    // SQLite answers SQLITE_READONLY to every write, as when the file system went read-only.
    env.store.db.pragma('query_only = 1');
    const send = () => request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'erin', text: 'hi', messageId: 'ro-1' });
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.detail).toBe('The store is unavailable; retry shortly.');
    env.store.db.pragma('query_only = 0');
    expect((await send()).status).toBe(202);
    await h.settle();
    expect((await h.runs()).map((r) => r.status)).toEqual(['done']);
    env.takeProblems();
  });
});
