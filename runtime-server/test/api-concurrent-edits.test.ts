import request from 'supertest';
import { requestListener } from '../src/app.js';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { prng } from '../../engine/test/fixtures/prng.js';

/**
 * Several designers (or tabs) working on the same flows at once: edits with fresh and stale
 * revisions, publishes, rollbacks, deletes, re-creates and runs started by API, all in flight
 * together. Each answer must be a 2xx or a problem document, and afterwards every flow must read
 * back whole: its versions numbered 1..latest without a gap, its active version one of them, its
 * draft at the revision the last successful edit returned.
 */

const FLOW_IDS = ['alpha', 'beta', 'gamma'];
const ROUNDS = 12;
const OPERATIONS_PER_ROUND = 24;

const flowNamed = (id: string, text: string) =>
  chainFlow(id, { id: 'api', type: 'api', params: {} }, [['say', 'send_text', { text }, 'sent'], ['bye', 'end', {}]]);

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
  h = await env.harness();
});
afterAll(() => env.dispose());

it('should answer concurrent edits, publishes, rollbacks and deletes consistently, and leave every flow whole', async () => {
  const serve = requestListener(h.app);
  const random = prng(7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const contact = (await request(serve).post('/api/contacts').set(h.auth()).send({ fields: { name: 'Ann' } }).expect(201)).body.id as string;
  const faults: string[] = [];
  const statuses = new Map<string, number>();

  type Operation = { name: string; allowed: number[]; send: () => request.Test };
  const operations = (id: string, revision: number | undefined): Operation[] => [
    { name: 'create', allowed: [201, 409], send: () => request(serve).post('/api/flows').set(h.auth()).send(flowNamed(id, `v${random()}`)) },
    {
      name: 'edit',
      allowed: [200, 404, 409],
      send: () => request(serve).put(`/api/flows/${id}`).set(h.auth()).set('If-Match', `"${revision ?? 1}"`).send(flowNamed(id, `edit ${random()}`)),
    },
    { name: 'stale edit', allowed: [404, 409], send: () => request(serve).put(`/api/flows/${id}`).set(h.auth()).set('If-Match', '"0"').send(flowNamed(id, 'stale')) },
    { name: 'publish', allowed: [201, 404], send: () => request(serve).post(`/api/flows/${id}/publish`).set(h.auth()) },
    { name: 'rollback', allowed: [200, 404, 422], send: () => request(serve).post(`/api/flows/${id}/rollback`).set(h.auth()).send({ version: 1 }) },
    { name: 'delete', allowed: [204, 404], send: () => request(serve).delete(`/api/flows/${id}`).set(h.auth()) },
    { name: 'start run', allowed: [202, 404, 409], send: () => request(serve).post(`/api/flows/${id}/runs`).set(h.auth()).send({ contactId: contact }) },
    { name: 'versions', allowed: [200, 404], send: () => request(serve).get(`/api/flows/${id}/versions`).set(h.auth()) },
  ];

  for (let round = 0; round < ROUNDS; round++) {
    const revisions = new Map<string, number>();
    for (const id of FLOW_IDS) {
      const res = await request(serve).get(`/api/flows/${id}`).set(h.auth());
      if (res.status === 200) revisions.set(id, res.body.revision as number);
    }
    const batch = Array.from({ length: OPERATIONS_PER_ROUND }, () => {
      const id = pick(FLOW_IDS);
      const choices = operations(id, revisions.get(id));
      // A deleted id stays taken (its versions are kept for the runs on them): delete seldom.
      return random() < 0.04 ? choices.find((op) => op.name === 'delete')! : pick(choices.filter((op) => op.name !== 'delete'));
    });
    const answers = await Promise.all(batch.map((op) => op.send()));
    answers.forEach((res, i) => {
      const op = batch[i]!;
      statuses.set(`${op.name} ${res.status}`, (statuses.get(`${op.name} ${res.status}`) ?? 0) + 1);
      if (!op.allowed.includes(res.status)) faults.push(`round ${round} ${op.name}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      else if (res.status >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) faults.push(`round ${round} ${op.name}: ${res.status} not a problem`);
    });
  }
  await h.settle();
  expect(faults).toEqual([]);

  for (const id of FLOW_IDS) {
    const flow = await request(serve).get(`/api/flows/${id}`).set(h.auth());
    if (flow.status === 404) continue;
    expect(flow.status).toBe(200);
    const versions = (await request(serve).get(`/api/flows/${id}/versions`).set(h.auth()).expect(200)).body.items as Array<{ version: number; active: boolean }>;
    const numbers = versions.map((v) => v.version).sort((a, b) => a - b);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    expect(flow.body.latestVersion ?? undefined).toBe(numbers.at(-1));
    const active = versions.filter((v) => v.active).map((v) => v.version);
    expect(active).toEqual(flow.body.activeVersion === undefined ? [] : [flow.body.activeVersion]);
    expect(flow.headers.etag).toBe(`"${flow.body.revision}"`);
  }
  // Runs started by API ended, and no journal entry failed.
  expect(h.store.db.prepare("SELECT count(*) AS n FROM journal WHERE status = 'failed'").get()).toEqual({ n: 0 });
  expect(h.store.db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'running'").get()).toEqual({ n: 0 });
  // The mix must have raced for real: edits both won and lost, and flows were published and deleted.
  for (const key of ['edit 200', 'edit 409', 'publish 201', 'delete 204', 'create 201', 'start run 202']) expect(statuses.get(key)).toBeGreaterThan(0);
});
