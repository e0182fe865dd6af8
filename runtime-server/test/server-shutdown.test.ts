import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { callFlow } from './support/flows.js';

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
  let root: string;
  let server: ChildServer | undefined;
  const started: ChildServer[] = [];
  /** Starts the server and remembers it, so that no test leaves one running. */
  const boot = async (env: Record<string, string>): Promise<ChildServer> => {
    const child = await startChildServer(env);
    started.push(child);
    return child;
  };
  /**
   * Starts a server on a data directory of its own, publishes a flow that calls `sink` when
   * `contact` says `keyword`, has the contact say it, and waits until the call is in flight.
   */
  const callInFlight = async (sink: SlowSink, agent: Agent, contact: string, keyword: string, extraEnv: Record<string, string> = {}) => {
    const env = { DATA_DIR: mkdtempSync(join(root, `${keyword}-`)), CONVOFLOW_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'NORMAL', DEMO_ALLOW_PRIVATE_NETWORK: '1', ...extraEnv };
    server = await boot(env);
    const flow = callFlow(`${keyword}-flow`, keyword, sink.url);
    expect((await call(server, agent, 'POST', '/api/flows', flow)).status).toBe(201);
    expect((await call(server, agent, 'POST', `/api/flows/${flow.id}/publish`)).status).toBe(201);
    expect((await call(server, agent, 'POST', '/api/simulator/messages', { contact, text: keyword })).status).toBe(202);
    await until(() => sink.received.length === 1, 'the HTTP call to reach the sink');
    return env;
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'convoflow-shutdown-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((child) => child.kill('SIGKILL')));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('should answer the requests in flight, long polls included, then exit 0', async () => {
    const env = { DATA_DIR: mkdtempSync(join(root, 'polls-')), CONVOFLOW_ADMIN_KEY: ADMIN_KEY, SQLITE_SYNCHRONOUS: 'NORMAL' };
    server = await boot(env);
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
      server = await boot(env);
      const again = await call(server, agent, 'POST', '/api/simulator/messages', { contact: 'leaving', text: 'zzq no flow matches this', messageId: 'm-shutdown' });
      expect(again.status).toBe(202);
      expect(JSON.parse(again.body)).toMatchObject({ accepted: false });
    } finally {
      agent.destroy();
    }
  }, 120_000);

  it('should finish an effect in flight before it exits, and not perform it again after the restart', async () => {
    const sink = await startSlowSink(1_500);
    const agent = new Agent({ keepAlive: true });
    try {
      const env = await callInFlight(sink, agent, 'erin', 'slowcall');

      // The call is in flight: the server waits for its answer (1.5 s), then exits 0.
      await server!.kill('SIGTERM');
      expect(server!.proc.exitCode).toBe(0);
      expect(sink.answered).toBe(1);

      server = await boot(env);
      await until(async () => transcript(await call(server!, agent, 'GET', '/api/simulator/messages?contact=erin')).includes('called'), 'the run to carry on after the restart');
      expect(sink.received).toHaveLength(1);
    } finally {
      agent.destroy();
      await sink.close();
    }
  }, 120_000);

  it('should exit at once on a second signal, and perform the cut effect again with the same key after the restart', async () => {
    const sink = await startSlowSink(Number.POSITIVE_INFINITY);
    const agent = new Agent({ keepAlive: true });
    try {
      // A short lease: the call cut by the exit is claimed again soon after the restart.
      const env = await callInFlight(sink, agent, 'fay', 'stuckcall', { LEASE_MS: '1000' });

      const exited = server!.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(server!.proc.exitCode).toBeNull(); // still waiting for the call
      const signalledAgainAt = performance.now();
      server!.proc.kill('SIGTERM');
      await exited;
      expect(server!.proc.exitCode).toBe(1);
      expect(performance.now() - signalledAgainAt).toBeLessThan(5_000);
      expect(server!.output()).toMatch(/second signal while shutting down/);

      sink.release();
      server = await boot(env);
      await until(async () => transcript(await call(server!, agent, 'GET', '/api/simulator/messages?contact=fay')).includes('called'), 'the run to carry on after the restart');
      expect(sink.received).toHaveLength(2);
      expect(sink.received[1]).toBe(sink.received[0]);
    } finally {
      agent.destroy();
      await sink.close();
    }
  }, 120_000);
});

const transcript = (answer: Answer): string[] => (JSON.parse(answer.body) as { items: Array<{ message: { text?: string } }> }).items.map((i) => i.message.text ?? '');

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A remote the HTTP node calls: answers each request after `delayMs` (never, for Infinity, until
 * `release()`), recording the Idempotency-Key of every request it received.
 */
interface SlowSink {
  url: string;
  /** The Idempotency-Key of each request, in arrival order. */
  received: string[];
  answered: number;
  /** Answers the held requests, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

async function startSlowSink(delayMs: number): Promise<SlowSink> {
  const held: ServerResponse[] = [];
  let releasing = false;
  const state = { received: [] as string[], answered: 0 };
  const answer = (res: ServerResponse) => {
    if (res.destroyed) return;
    state.answered += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    state.received.push(String(req.headers['idempotency-key']));
    if (releasing || delayMs === 0) answer(res);
    else if (Number.isFinite(delayMs)) setTimeout(() => answer(res), delayMs);
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: state.received,
    get answered() {
      return state.answered;
    },
    release() {
      releasing = true;
      held.splice(0).forEach(answer);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
