import request from 'supertest';
import type { FlowDefinition } from '@convoflow/engine';
import { startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { waitFor } from './support/wait-for.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
  h = await env.harness();
});
afterAll(() => env.dispose());

/** Doubles `vars.x` on every pass of a loop that waits 50 ms: valid, and growing without end. */
const doubling: FlowDefinition = {
  id: 'doubling',
  name: 'Doubles a text forever',
  triggers: [{ id: 'k', type: 'keyword', params: { keywords: ['grow'], match: 'exact' } }],
  nodes: [
    { id: 'begin', type: 'set_variable', typeVersion: 1, position: { x: 0, y: 0 }, params: { assignments: [{ variable: 'passes', value: 0 }] } },
    { id: 'double', type: 'set_variable', typeVersion: 1, position: { x: 200, y: 0 }, params: { assignments: [{ variable: 'x', value: '{{vars.x}}{{vars.x}}' }] } },
    { id: 'pause', type: 'delay', typeVersion: 1, position: { x: 400, y: 0 }, params: { duration: 'PT0.05S' } },
    { id: 'again', type: 'jump', typeVersion: 1, position: { x: 600, y: 0 }, params: { target: 'double' } },
  ],
  edges: [
    { id: 'e1', source: 'begin', sourceOutput: 'next', target: 'double' },
    { id: 'e2', source: 'double', sourceOutput: 'next', target: 'pause' },
    { id: 'e3', source: 'pause', sourceOutput: 'done', target: 'again' },
  ],
  variables: [
    { name: 'x', type: 'string', default: 'abcdefgh' },
    { name: 'passes', type: 'number', default: 0 },
  ],
  settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
};

/** Says `keyword` as a contact of its own and waits for the run it starts to fail: the run, as the API shows it. */
async function failedRunOf(harness: Harness, keyword: string): Promise<{ id: string; error: unknown; stepCount: number }> {
  await request(harness.app).post('/api/simulator/messages').set(harness.auth()).send({ contact: `${keyword}-contact`, text: keyword }).expect(202);
  let runId = '';
  await waitFor(async () => {
    const [run] = await harness.runs();
    runId = run?.id ?? '';
    return run?.status === 'failed';
  }, 10_000);
  return (await request(harness.app).get(`/api/runs/${runId}`).set(harness.auth()).expect(200)).body.run;
}

describe('a run that grows its state without end', () => {
  it('should fail once a value would pass the limit, with its last state under it', async () => {
    await h.publish(doubling);
    // 8 characters doubled 14 times is 131,072: past 100,000 on the 14th pass.
    const run = await failedRunOf(h, 'grow');
    expect(run.error).toEqual({
      code: 'TEMPLATE_ERROR',
      message: 'Node "double" failed: the template renders to more than 100,000 characters',
      nodeId: 'double',
    });
    const stored = await env.store.runs.get(h.ws, run.id);
    const x = (stored?.snapshot as { context: { vars: { x: string } } }).context.vars.x;
    expect(x).toHaveLength(65_536);
    expect(env.takeProblems().filter((p) => p.startsWith('error'))).toEqual([]);
  });
});

describe('a run that loops without end', () => {
  let looping: ApiEnv;
  let l: Harness;
  beforeAll(async () => {
    looping = await startApiEnv({ runtime: { maxRunSteps: 10 } });
    l = await looping.harness();
  });
  afterAll(() => looping.dispose());

  /** Waits 50 ms, then jumps back to wait again: valid (its loop waits), and never ends. */
  const spinning: FlowDefinition = {
    ...doubling,
    id: 'spinning',
    name: 'Waits for ever',
    triggers: [{ id: 'k', type: 'keyword', params: { keywords: ['spin'], match: 'exact' } }],
    nodes: doubling.nodes.filter((n) => n.id === 'pause' || n.id === 'again').map((n) => (n.id === 'again' ? { ...n, params: { target: 'pause' } } : n)),
    edges: [{ id: 'e3', source: 'pause', sourceOutput: 'done', target: 'again' }],
    variables: [],
  };

  it('should fail once it has taken every step a run may, and refuse a retry', async () => {
    await l.publish(spinning);
    const run = await failedRunOf(l, 'spin');
    expect(run.error).toEqual({
      code: 'TOO_MANY_STEPS',
      message: 'the run took 10 steps, and a run may take 10: its flow seems to loop without end',
    });
    expect(run.stepCount).toBe(11);
    const retry = await request(l.app).post(`/api/runs/${run.id}/retry`).set(l.auth()).expect(409);
    expect(retry.body.type).toMatch(/run-too-long$/);
    expect(looping.takeProblems().filter((p) => p.startsWith('error'))).toEqual([]);
  });
});
