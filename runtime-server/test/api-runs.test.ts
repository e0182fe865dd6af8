import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TIMER_JOB } from '../src/scheduler/index.js';
import { chainFlow, matchesSchema, startApiEnv, type ApiEnv, type Harness, type ListedRun } from './api-support.js';

const api = { id: 'api', type: 'api', params: {} } as const;
const flows = [
  // Waits on a durable timer an hour long: the run stays `waiting`.
  chainFlow('wait', api, [['pause', 'delay', { duration: 'PT1H' }]]),
  // Logs a conversion (an executed node, so a second step), then ends: `done`.
  chainFlow('done', api, [['log', 'log_conversion_event', { name: 'signup' }, 'logged'], ['end', 'end', {}]]),
  // A value that is not a number leaves by `failed`, which is not connected: the run fails.
  chainFlow('fail', api, [['log', 'log_conversion_event', { name: 'purchase', value: 'lots' }]]),
];

let env: ApiEnv;
let h: Harness;
let contactId: string;
/** A remote system the retry test calls: it answers 503 until told to recover. */
const remote = { server: undefined as Server | undefined, url: '', healthy: false, calls: 0 };
beforeAll(async () => {
  env = await startApiEnv();
  remote.server = createServer((_req, res) => {
    remote.calls += 1;
    res.writeHead(remote.healthy ? 200 : 503, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => remote.server!.listen(0, '127.0.0.1', resolve));
  remote.url = `http://127.0.0.1:${(remote.server.address() as AddressInfo).port}/orders`;
});
afterAll(async () => {
  await env.dispose();
  await new Promise((resolve) => remote.server?.close(resolve));
});
// Whatever a test made the runtime do, it finished without logging a failure.
afterEach(async () => {
  await h.settle();
  expect(env.takeProblems()).toEqual([]);
});
beforeEach(async () => {
  h = await env.harness();
  for (const flow of flows) await h.publish(flow);
  contactId = (await h.store.contacts.create(h.ws, { name: 'Ann' }, [], h.clock.now)).id;
});

/** Starts a run through the API and returns it once the runtime has taken every step it can. */
async function start(flowId: 'wait' | 'done' | 'fail'): Promise<ListedRun> {
  const before = new Set((await h.runs()).map((r) => r.id));
  await request(h.app).post(`/api/flows/${flowId}/runs`).set(h.auth()).send({ contactId }).expect(202);
  const started = (await h.runs()).filter((r) => !before.has(r.id));
  expect(started).toHaveLength(1);
  return started[0]!;
}

/** Timers the scheduler holds for a run. */
async function timersOf(runId: string): Promise<string[]> {
  const { jobs } = await h.scheduler.agenda.queryJobs({ name: TIMER_JOB });
  return jobs.map((job) => (job.data as { key: string }).key).filter((key) => key.startsWith(`${runId}/`));
}

describe('listing runs', () => {
  it('should list the runs the runtime started, with filters and without snapshots', async () => {
    const waiting = await start('wait');
    const failed = await start('fail');
    const done = await start('done');
    expect([waiting.status, failed.status, done.status]).toEqual(['waiting', 'failed', 'done']);
    expect(failed.error).toMatchObject({ code: 'NODE_FAILED', message: expect.stringContaining('"failed" output') });
    const all = await request(h.app).get('/api/runs').set(h.auth('staff')).expect(200);
    expect(matchesSchema('RunList', all.body)).toEqual([]);
    expect(all.body.items).toHaveLength(3);
    expect(JSON.stringify(all.body)).not.toContain('snapshot');
    const onlyWaiting = await request(h.app).get('/api/runs?status=waiting').set(h.auth()).expect(200);
    expect(onlyWaiting.body.items.map((r: { id: string }) => r.id)).toEqual([waiting.id]);
    const fail = await request(h.app).get(`/api/runs?flowId=fail&contactId=${contactId}`).set(h.auth()).expect(200);
    expect(fail.body.items.map((r: { id: string }) => r.id)).toEqual([failed.id]);
  });

  it('should page with limit and cursor', async () => {
    for (let i = 0; i < 3; i++) await start('done');
    const first = await request(h.app).get('/api/runs?limit=2').set(h.auth()).expect(200);
    expect(first.body.items).toHaveLength(2);
    expect(typeof first.body.next).toBe('string');
    const second = await request(h.app).get(`/api/runs?limit=2&cursor=${encodeURIComponent(first.body.next)}`).set(h.auth()).expect(200);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next).toBeUndefined();
    const ids = [...first.body.items, ...second.body.items].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('should answer 422 naming bad query parameters', async () => {
    const res = await request(h.app).get('/api/runs?status=sleeping&limit=0').set(h.auth()).expect(422);
    expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['query.limit', 'query.status']);
    const repeated = await request(h.app).get('/api/runs?limit=1&limit=2').set(h.auth()).expect(422);
    expect(repeated.body.errors).toEqual([{ field: 'query.limit', message: 'must be given once' }]);
    const cursor = await request(h.app).get('/api/runs?cursor=garbage').set(h.auth()).expect(422);
    expect(cursor.body.errors).toEqual([{ field: 'query.cursor', message: 'is not a cursor this server handed out' }]);
  });

  it('should not list runs of another workspace', async () => {
    await start('done');
    const res = await request(h.app).get('/api/runs').set(h.auth('other')).expect(200);
    expect(res.body.items).toEqual([]);
  });
});

describe('one run', () => {
  it('should return the run with its step log and the path it took', async () => {
    const run = await start('done');
    const res = await request(h.app).get(`/api/runs/${run.id}`).set(h.auth('staff')).expect(200);
    expect(matchesSchema('RunDetail', res.body)).toEqual([]);
    expect(res.body.run).toMatchObject({ id: run.id, status: 'done', flowId: 'done', contactId });
    expect(res.body.run.snapshot).toBeUndefined();
    expect(res.body.steps).toEqual([
      expect.objectContaining({ stepNo: 0, event: 'run.started', status: 'running' }),
      expect.objectContaining({ stepNo: 1, event: 'node.completed', status: 'done' }),
    ]);
    // The first step enters `log` and waits for its effect; the second leaves it and ends.
    expect(res.body.path).toEqual([
      { nodeId: 'log', at: expect.any(Number) },
      { nodeId: 'log', output: 'logged', at: expect.any(Number) },
      { nodeId: 'end', output: 'end', at: expect.any(Number) },
    ]);
  });

  it('should page a long step log: the detail carries the first steps and stepsNext, /steps the rest', async () => {
    // Five conversion events, each a step of its own (the run waits for each effect's outcome).
    const logs = ['a', 'b', 'c', 'd', 'e'].map((n): [string, string, Record<string, string>, string] => [n, 'log_conversion_event', { name: n }, 'logged']);
    await h.publish(chainFlow('long', api, [...logs, ['end', 'end', {}]]));
    await request(h.app).post('/api/flows/long/runs').set(h.auth()).send({ contactId }).expect(202);
    const [run] = await h.runs({ flowId: 'long' });
    const whole = await request(h.app).get(`/api/runs/${run!.id}`).set(h.auth()).expect(200);
    expect(whole.body.steps.map((s: { stepNo: number }) => s.stepNo)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(whole.body.stepsNext).toBeUndefined();

    const first = await request(h.app).get(`/api/runs/${run!.id}?steps=2`).set(h.auth()).expect(200);
    expect(matchesSchema('RunDetail', first.body)).toEqual([]);
    expect(first.body.steps.map((s: { stepNo: number }) => s.stepNo)).toEqual([0, 1]);
    expect(first.body.stepsNext).toBe(1);
    const pages = [first.body.path];
    for (let after: number | undefined = first.body.stepsNext; after !== undefined; ) {
      const page = await request(h.app).get(`/api/runs/${run!.id}/steps?after=${after}&limit=2`).set(h.auth('staff')).expect(200);
      expect(matchesSchema('StepPage', page.body)).toEqual([]);
      expect(page.body.items.map((s: { stepNo: number }) => s.stepNo)).toEqual([after + 1, after + 2].filter((n) => n <= 5));
      pages.push(page.body.path);
      after = page.body.next;
    }
    expect(pages.flat()).toEqual(whole.body.path);
  });

  it('should refuse bad step paging with 422 naming the parameter, and another workspace\'s run with 404', async () => {
    const run = await start('done');
    const big = await request(h.app).get(`/api/runs/${run.id}?steps=5000`).set(h.auth()).expect(422);
    expect(big.body.errors).toEqual([{ field: 'query.steps', message: expect.any(String) }]);
    const after = await request(h.app).get(`/api/runs/${run.id}/steps?after=x`).set(h.auth()).expect(422);
    expect(after.body.errors).toEqual([{ field: 'query.after', message: expect.any(String) }]);
    await request(h.app).get(`/api/runs/${run.id}/steps`).set(h.auth('other')).expect(404);
    const all = await request(h.app).get(`/api/runs/${run.id}/steps?after=-1`).set(h.auth()).expect(200);
    expect(all.body.items.map((s: { stepNo: number }) => s.stepNo)).toEqual([0, 1]);
  });

  it('should answer 404 for an unknown run and another workspace\'s run', async () => {
    const run = await start('wait');
    await request(h.app).get('/api/runs/run_nope').set(h.auth()).expect(404);
    await request(h.app).get(`/api/runs/${run.id}`).set(h.auth('other')).expect(404);
    await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth('other')).expect(404);
  });
});

describe('cancel and retry', () => {
  it('should cancel a waiting run and its timer, and answer 409 once it has ended', async () => {
    const run = await start('wait');
    expect(await timersOf(run.id)).toHaveLength(1);
    const res = await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth('staff')).expect(200);
    expect(matchesSchema('Run', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ id: run.id, status: 'cancelled' });
    await h.settle();
    expect(await timersOf(run.id)).toEqual([]);
    const again = await request(h.app).post(`/api/runs/${run.id}/cancel`).set(h.auth()).expect(409);
    expect(again.body.detail).toMatch(/already ended \(cancelled\)/);
    const done = await start('done');
    await request(h.app).post(`/api/runs/${done.id}/cancel`).set(h.auth()).expect(409);
  });

  it('should answer 409 for retrying a run that has not failed, and 404 for an unknown run', async () => {
    const waiting = await start('wait');
    const refused = await request(h.app).post(`/api/runs/${waiting.id}/retry`).set(h.auth()).expect(409);
    expect(refused.body).toMatchObject({ status: 409, type: 'https://convoflow.dev/problems/run-not-failed' });
    const done = await start('done');
    await request(h.app).post(`/api/runs/${done.id}/retry`).set(h.auth()).expect(409);
    await request(h.app).post('/api/runs/run_nope/retry').set(h.auth()).expect(404);
  });

  it('should retry a failed run from the node that failed and let it continue', async () => {
    await h.store.workspaces.updateSettings(h.ws, { allowPrivateNetwork: true });
    await h.publish(chainFlow('call', api, [['call', 'http_request', { method: 'GET', url: remote.url }, 'success'], ['end', 'end', {}]]));
    remote.healthy = false;
    remote.calls = 0;
    await request(h.app).post('/api/flows/call/runs').set(h.auth()).send({ contactId }).expect(202);
    const [failed] = await h.runs({ flowId: 'call' });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'NODE_FAILED', message: expect.stringContaining('503') } });

    remote.healthy = true;
    const res = await request(h.app).post(`/api/runs/${failed!.id}/retry`).set(h.auth('staff')).expect(200);
    expect(matchesSchema('Run', res.body)).toEqual([]);
    expect(res.body.id).toBe(failed!.id);
    expect(res.body.error).toBeUndefined();
    await h.settle();
    const detail = await request(h.app).get(`/api/runs/${failed!.id}`).set(h.auth()).expect(200);
    expect(detail.body.run).toMatchObject({ status: 'done' });
    expect(detail.body.run.error).toBeUndefined();
    expect(detail.body.steps.map((s: { event: string; status: string }) => `${s.event}:${s.status}`)).toEqual([
      'run.started:running',
      'node.completed:failed',
      'run.retried:running',
      'node.completed:done',
    ]);
    expect(remote.calls).toBe(2);
    await request(h.app).post(`/api/runs/${failed!.id}/retry`).set(h.auth()).expect(409);
  });
});
