import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { startIdempotentSink, type IdempotentSink } from './support/idempotent-sink.js';
import { sendCallDelayFlow } from './support/flows.js';

const ADMIN_KEY = `cf_${'k'.repeat(43)}`;
const MESSAGES = 2_000;
const CONTACTS = 100;
const SENDERS = 50;
const KILL_AFTER_ACKS = 900;
const progress = (message: string) => {
  if (process.env.CRASH_TEST_DEBUG) process.stderr.write(`[crash-test ${new Date().toISOString()}] ${message}\n`);
};

async function api(server: ChildServer, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('crash recovery (SIGKILL midway through 2,000 messages)', () => {
  let dir: string;
  let sink: IdempotentSink;
  let server: ChildServer | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-crash-'));
    sink = await startIdempotentSink();
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should process every acknowledged message exactly once and apply every side effect once', async () => {
    const env = {
      DATA_DIR: dir,
      CONVOFLOW_ADMIN_KEY: ADMIN_KEY,
      DEMO_ALLOW_PRIVATE_NETWORK: '1',
      SQLITE_SYNCHRONOUS: 'FULL',
      POLL_MS: '20',
      SCHEDULER_POLL_MS: '100',
      LEASE_MS: '2000',
      SCHEDULER_LOCK_LIFETIME_MS: '2000',
    };
    server = await startChildServer(env);
    progress('server started');
    const created = await api(server, 'POST', '/api/flows', sendCallDelayFlow(sink.url));
    expect(created.status).toBe(201);
    const flowId = ((await created.json()) as { flow: { id: string } }).flow.id;
    expect((await api(server, 'POST', `/api/flows/${flowId}/publish`)).status).toBe(201);

    const acked = new Set<string>();
    const queue = Array.from({ length: MESSAGES }, (_, i) => i);
    let killed: Promise<void> | undefined;

    // Each sender takes the next message; a message whose POST did not get a 2xx was not
    // acknowledged, so (like a provider) we deliver it again later with the same id.
    const send = async (target: ChildServer, retryLater: number[]) => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const id = `m-${i}`;
        try {
          const res = await api(target, 'POST', '/api/simulator/messages', {
            contact: `c-${i % CONTACTS}`,
            text: `crash ${i}`,
            messageId: id,
          });
          if (res.status === 202) acked.add(id);
          else retryLater.push(i);
        } catch {
          retryLater.push(i);
        }
        if (!killed && acked.size >= KILL_AFTER_ACKS) killed = target.kill('SIGKILL');
      }
    };

    const unacked: number[] = [];
    await Promise.all(Array.from({ length: SENDERS }, () => send(server!, unacked)));
    await killed;
    progress(`killed after ${acked.size} acks; ${unacked.length} to redeliver`);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acked.size).toBeLessThan(MESSAGES);

    server = await startChildServer(env);
    progress('server restarted');
    queue.push(...unacked, ...queue.splice(0));
    const stillUnacked: number[] = [];
    await Promise.all(Array.from({ length: SENDERS }, () => send(server!, stillUnacked)));
    expect(stillUnacked).toEqual([]);
    expect(acked.size).toBe(MESSAGES);

    const db = new Database(join(dir, 'convoflow.db'), { readonly: true, fileMustExist: true });
    try {
      const deadline = Date.now() + 120_000;
      const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
      while (Date.now() < deadline) {
        const done = count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status = 'done'`, flowId);
        const pending = count(`SELECT count(*) n FROM journal WHERE status = 'pending'`) + count(`SELECT count(*) n FROM outbox WHERE status = 'pending'`);
        progress(`done ${done}, pending ${pending}`);
        if (done === MESSAGES && pending === 0) break;
        await new Promise((r) => setTimeout(r, 1000));
      }

      // Every acknowledged message started exactly one run, and every run finished.
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ?`, flowId)).toBe(MESSAGES);
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status <> 'done'`, flowId)).toBe(0);
      expect(count(`SELECT count(*) n FROM journal WHERE kind = 'message' AND dedupe_key LIKE 'msg:simulator:m-%'`)).toBe(MESSAGES);
      expect(count(`SELECT count(*) n FROM journal WHERE status <> 'processed'`)).toBe(0);

      // Each run sent its two messages once: one "ack" and one "done" per acknowledged message.
      const texts = db
        .prepare(`SELECT json_extract(message, '$.text') AS text FROM messages WHERE direction = 'outbound'`)
        .all() as Array<{ text: string }>;
      const perText = new Map<string, number>();
      for (const { text } of texts) perText.set(text, (perText.get(text) ?? 0) + 1);
      for (let i = 0; i < MESSAGES; i++) {
        expect([perText.get(`ack m-${i}`), perText.get(`done m-${i}`)]).toEqual([1, 1]);
      }
      expect([...perText.keys()].filter((t) => t.startsWith('http failed'))).toEqual([]);
    } finally {
      db.close();
    }

    // The sink saw every run's idempotency key; a key delivered twice (a call in flight at the
    // kill) was applied once by the sink, which is what the key is for. At most the effects in
    // flight at the kill can have been repeated.
    expect(sink.unkeyed).toBe(0);
    expect(sink.deliveries.size).toBe(MESSAGES);
    const repeated = [...sink.deliveries.values()].filter((n) => n > 1).length;
    expect(repeated).toBeLessThanOrEqual(16);
    await server.kill('SIGTERM');
  }, 300_000);
});
