import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { startIdempotentSink, type IdempotentSink } from './support/idempotent-sink.js';
import { sendCallDelayFlow } from './support/flows.js';

const ADMIN_KEY = `cf_${'p'.repeat(43)}`;
const MESSAGES = 600;
const CONTACTS = 60;
const SENDERS = 30;

async function api(server: ChildServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('two server processes on one SQLite file', () => {
  let dir: string;
  let sink: IdempotentSink;
  const servers: ChildServer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-two-'));
    sink = await startIdempotentSink();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill('SIGKILL')));
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should share the work without running any step twice or losing one', async () => {
    const env = {
      DATA_DIR: dir,
      CONVOFLOW_ADMIN_KEY: ADMIN_KEY,
      DEMO_ALLOW_PRIVATE_NETWORK: '1',
      POLL_MS: '20',
      SCHEDULER_POLL_MS: '100',
    };
    // The first process creates the schema and the demo workspace; the second opens them.
    servers.push(await startChildServer(env));
    servers.push(await startChildServer(env));
    const [a, b] = servers as [ChildServer, ChildServer];

    const created = await api(a, 'POST', '/api/flows', sendCallDelayFlow(sink.url));
    expect(created.status).toBe(201);
    const flowId = ((await created.json()) as { flow: { id: string } }).flow.id;
    expect((await api(b, 'POST', `/api/flows/${flowId}/publish`)).status).toBe(201);

    // Messages alternate between the two processes, so one contact's events arrive at both. A 503
    // (the file stayed locked by the other process past the busy timeout, as when a long GC pauses
    // it inside a commit) is delivered again, with its id, as a provider does.
    const queue = Array.from({ length: MESSAGES }, (_, i) => i);
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const res = await api(i % 2 === 0 ? a : b, 'POST', '/api/simulator/messages', {
            contact: `c-${i % CONTACTS}`,
            text: `crash ${i}`,
            messageId: `m-${i}`,
          });
          if (res.status === 503) {
            queue.push(i);
            await new Promise((r) => setTimeout(r, 50));
            continue;
          }
          expect(res.status).toBe(202);
        }
      }),
    );

    const db = new Database(join(dir, 'convoflow.db'), { readonly: true, fileMustExist: true });
    try {
      const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const done = count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status = 'done'`, flowId);
        const pending = count(`SELECT count(*) n FROM journal WHERE status = 'pending'`) + count(`SELECT count(*) n FROM outbox WHERE status = 'pending'`);
        if (done === MESSAGES && pending === 0) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ?`, flowId)).toBe(MESSAGES);
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status <> 'done'`, flowId)).toBe(0);

      // Every run took exactly its five steps (start, send done, HTTP done, timer, last send).
      const steps = db
        .prepare(`SELECT r.id, count(s.step_no) AS n, max(s.step_no) AS last FROM runs r JOIN step_log s ON s.run_id = r.id WHERE r.flow_id = ? GROUP BY r.id`)
        .all(flowId) as Array<{ id: string; n: number; last: number }>;
      expect(steps).toHaveLength(MESSAGES);
      expect(steps.filter((s) => s.n !== 5 || s.last !== 4)).toEqual([]);

      // No effect was claimed twice.
      expect(count(`SELECT count(*) n FROM outbox WHERE attempts <> 1`)).toBe(0);
      const texts = db.prepare(`SELECT json_extract(message, '$.text') AS text FROM messages WHERE direction = 'outbound'`).all() as Array<{ text: string }>;
      expect(texts).toHaveLength(2 * MESSAGES);
      expect(new Set(texts.map((t) => t.text)).size).toBe(2 * MESSAGES);
    } finally {
      db.close();
    }
    // Both processes performed effects (each counts its own in /metrics).
    for (const server of [a, b]) {
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const performed = [...metrics.matchAll(/^convoflow_effects_total\{[^}]*result="ok"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(performed).toBeGreaterThan(0);
    }
    expect(sink.deliveries.size).toBe(MESSAGES);
    expect([...sink.deliveries.values()].every((n) => n === 1)).toBe(true);
  }, 300_000);
});
