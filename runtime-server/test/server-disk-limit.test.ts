import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FlowDefinition } from '@convoflow/engine';
import { sumMetric } from '../../bench/support/prometheus.js';
import { startChildServer, type ChildServer } from './support/child-server.js';

const ADMIN_KEY = `cf_${'d'.repeat(43)}`;
/** Bytes any one file of the server may reach until the limit is lifted: the seeded store fits. */
const FILE_LIMIT = 1_500_000;
/** Messages sent after the limit is lifted, beside those refused before. */
const MESSAGES_AFTER = 50;
const SENDERS = 8;
const REFUSALS_BEFORE_LIFTING = 20;

const replyFlow: FlowDefinition = {
  id: 'disk-limit',
  name: 'Disk limit',
  triggers: [{ id: 'k', type: 'keyword', params: { keywords: ['disklimit'], match: 'contains' } }],
  nodes: [{ id: 'reply', type: 'send_text', typeVersion: 1, position: { x: 0, y: 0 }, params: { text: 'got {{trigger.message.text}}' } }],
  edges: [],
  variables: [],
  settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
};

/** The limit on file size of a running process (what `ulimit -f` sets), through util-linux's prlimit. */
function setFileSizeLimit(pid: number, limit: string): void {
  const result = spawnSync('prlimit', ['--pid', String(pid), `--fsize=${limit}`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`prlimit failed: ${result.stderr || String(result.error)}`);
}

// A file-size limit on the server process is a disk that refuses to grow the database, its WAL or
// the log, without privileges or a real full disk: the write past it fails, as on a disk over its quota.
describe('a server whose disk stops taking writes, then takes them again', () => {
  let dir: string;
  let server: ChildServer | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-disk-limit-'));
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse what it cannot store with 503, lose nothing, and carry on by itself once it can write', async () => {
    server = await startChildServer(
      { DATA_DIR: dir, CONVOFLOW_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'FULL', POLL_MS: '20', LEASE_MS: '2000', LOG_LEVEL: 'info' },
      60_000,
      ['prlimit', `--fsize=${FILE_LIMIT}:unlimited`, '--'],
    );
    const live = server;
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${live.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await api('POST', '/api/flows', replyFlow)).status).toBe(201);
    expect((await api('POST', `/api/flows/${replyFlow.id}/publish`)).status).toBe(201);

    // New messages until the limit is lifted and MESSAGES_AFTER more; like a provider, each sender
    // delivers a refused message again (same id) until it is acknowledged.
    let sent = 0;
    let sentAfter = 0;
    const retry: number[] = [];
    const next = (): number | undefined => {
      const again = retry.shift();
      if (again !== undefined) return again;
      if (lifted && sentAfter++ >= MESSAGES_AFTER) return undefined;
      return sent++;
    };
    const acked = new Set<number>();
    const refusals: Array<{ status: number; retryAfter: string | null; detail: string }> = [];
    let lifted = false;
    const deadline = Date.now() + 45_000;
    const send = async () => {
      for (let i = next(); i !== undefined && Date.now() < deadline; i = next()) {
        const res = await api('POST', '/api/simulator/messages', {
          contact: `c-${i % 20}`,
          text: `disklimit ${i} ${'x'.repeat(1_000)}`,
          messageId: `m-${i}`,
        });
        const body = (await res.json()) as { detail?: string };
        if (res.status === 202) {
          acked.add(i);
          continue;
        }
        refusals.push({ status: res.status, retryAfter: res.headers.get('retry-after'), detail: body.detail ?? '' });
        retry.push(i);
        if (!lifted && refusals.length >= REFUSALS_BEFORE_LIFTING && live.output().includes('cannot write the database')) {
          // The checkpoints stalled too: the WAL cannot start over until the database may grow.
          expect(live.proc.exitCode).toBeNull();
          setFileSizeLimit(live.proc.pid!, 'unlimited');
          lifted = true;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, send));
    const messages = sent;
    expect({ lifted, acked: acked.size, retry }).toEqual({ lifted: true, acked: messages, retry: [] });
    expect(refusals.length).toBeGreaterThanOrEqual(REFUSALS_BEFORE_LIFTING);
    for (const refusal of refusals) {
      expect(refusal).toEqual({ status: 503, retryAfter: '5', detail: expect.stringMatching(/^The server's storage (is full|refused the write)/) });
    }

    // Every acknowledged message ran once and was answered once.
    const db = new Database(join(dir, 'convoflow.db'), { readonly: true, fileMustExist: true });
    try {
      const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
      const settleBy = Date.now() + 20_000;
      while (Date.now() < settleBy) {
        const pending = count(`SELECT count(*) n FROM journal WHERE status = 'pending'`) + count(`SELECT count(*) n FROM outbox WHERE status = 'pending'`);
        if (pending === 0 && count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status = 'done'`, replyFlow.id) === messages) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ?`, replyFlow.id)).toBe(messages);
      expect(count(`SELECT count(*) n FROM runs WHERE flow_id = ? AND status <> 'done'`, replyFlow.id)).toBe(0);
      expect(count(`SELECT count(*) n FROM journal WHERE status <> 'processed'`)).toBe(0);
      expect(count(`SELECT count(*) n FROM outbox WHERE status <> 'done'`)).toBe(0);
      const replies = db
        .prepare(`SELECT json_extract(message, '$.text') AS text FROM messages WHERE direction = 'outbound' AND json_extract(message, '$.text') LIKE 'got disklimit %'`)
        .pluck()
        .all() as string[];
      expect(replies).toHaveLength(messages);
      expect(new Set(replies).size).toBe(messages);
    } finally {
      db.close();
    }

    // It said what happened as warnings (each at most every 10 s), never as errors, and its
    // background checkpoints outlived the outage.
    // An operator's alerts see it too: work put off, counted; nothing failed for good.
    const metrics = await (await api('GET', '/metrics')).text();
    expect(sumMetric(metrics, 'convoflow_store_unavailable_total')).toBeGreaterThan(0);
    expect(sumMetric(metrics, 'convoflow_journal_failed_total')).toBe(0);
    expect(sumMetric(metrics, 'http_requests_total', { status: '503' })).toBe(refusals.length);

    // The stalled checkpoints are tried again every second.
    const resumedBy = Date.now() + 5_000;
    while (!live.output().includes('work again') && Date.now() < resumedBy) await new Promise((r) => setTimeout(r, 100));
    const output = live.output();
    expect(output).toContain('cannot write the database');
    expect(output).toContain('work again');
    if (process.env.DISK_LIMIT_DEBUG) process.stderr.write(output.split('\n').filter((l) => !l.includes('"level":30')).join('\n'));
    expect(output).not.toMatch(/checkpoints of .* stopped/);
    const errors = output.split('\n').filter((line) => line.includes('"level":50'));
    expect(errors).toEqual([]);
  }, 90_000);
});
