import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from './support/child-server.js';

const ADMIN_KEY = `cf_${'g'.repeat(43)}`;
const LONG_POLLS = 8;

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One request over `agent` (kept alive); rejects when the connection is cut before the answer. */
function call(server: ChildServer, agent: Agent, method: string, path: string, body?: unknown): Promise<Answer> {
  const url = new URL(path, server.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('graceful shutdown (SIGTERM)', () => {
  let dir: string;
  let server: ChildServer | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-shutdown-'));
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('should answer the requests in flight, long polls included, then exit 0', async () => {
    const env = { DATA_DIR: dir, CONVOFLOW_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'NORMAL' };
    server = await startChildServer(env);
    const agent = new Agent({ keepAlive: true });
    try {
      // Warm the kept-alive connections, then hold long polls that nothing will answer for 20 s.
      const warm = await Promise.all(Array.from({ length: LONG_POLLS }, () => call(server!, agent, 'GET', '/healthz')));
      expect(warm.map((a) => a.status)).toEqual(Array(LONG_POLLS).fill(200));
      const polls = Array.from({ length: LONG_POLLS }, (_, i) =>
        call(server!, agent, 'GET', `/api/simulator/messages?contact=${encodeURIComponent(`quiet-${i}`)}&wait=20000`),
      );
      // A message whose POST waits for a reply is journaled before it holds, so its answer says so.
      const message = call(server, agent, 'POST', '/api/simulator/messages?wait=20000', { contact: 'leaving', text: 'zzq no flow matches this', messageId: 'm-shutdown' });
      await new Promise((r) => setTimeout(r, 500));

      const signalledAt = performance.now();
      const exited = server.kill('SIGTERM');
      const answers = await Promise.all(polls);
      const answered = await message;
      await exited;
      const tookMs = performance.now() - signalledAt;

      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toEqual({ items: [], after: 0 });
        // Told not to send more on this connection: the next request goes to another server.
        expect(answer.connection).toBe('close');
      }
      expect(answered.status).toBe(200);
      expect(JSON.parse(answered.body)).toMatchObject({ accepted: true, items: [] });
      expect(server.proc.exitCode).toBe(0);
      // Long polls answered when the drain began, not when their 20 s wait ran out.
      expect(tookMs).toBeLessThan(10_000);
      expect(server.output()).not.toMatch(/"level":(50|60)/);

      // The message answered as accepted is still there after the restart, and only once.
      server = await startChildServer(env);
      const again = await call(server, agent, 'POST', '/api/simulator/messages', { contact: 'leaving', text: 'zzq no flow matches this', messageId: 'm-shutdown' });
      expect(again.status).toBe(202);
      expect(JSON.parse(again.body)).toMatchObject({ accepted: false });
    } finally {
      agent.destroy();
    }
  }, 120_000);
});
