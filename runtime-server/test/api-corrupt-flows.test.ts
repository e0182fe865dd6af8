import { readFileSync } from 'node:fs';
import request from 'supertest';
import { requestListener } from '../src/app.js';
import { startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { prng } from '../../engine/test/fixtures/prng.js';

/**
 * The example flows, corrupted at random (seeded, so a failure replays) and put through everything
 * a designer does with a draft: create, validate, publish, test-run, talk to it on the simulator,
 * delete. A corrupted flow may be refused (4xx, as a problem document) and a run of it may fail;
 * neither the API nor the runtime may: no 5xx, no journal entry whose processing threw, and no run
 * left mid-step once the runtime has settled.
 */

const EXAMPLES = ['welcome-buttons', 'lead-qualification', 'order-status', 'delay-follow-up'];
const CORRUPTIONS_PER_EXAMPLE = 100;

const read = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../examples/flows/${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** Values of every JSON type, and strings that mean something to templates, durations and ids. */
const JUNK: unknown[] = [null, 0, -1, 1.5, 1e12, '', 'x', '{{', '{{contact.name}}', '{{vars.nope}}', 'PT0S', 'P1000D', 'n1', true, [], [1, 'a'], {}, { a: 1 }];

type Container = Record<string, unknown> | unknown[];

/** Changes one value somewhere in `doc`: replaced by junk, deleted, or an array item repeated. */
function corrupt(doc: Record<string, unknown>, random: () => number): { flow: Record<string, unknown>; what: string } {
  const flow = structuredClone(doc);
  const places: Array<{ container: Container; key: string | number; path: string }> = [];
  const collect = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => (places.push({ container: value, key: i, path: `${path}/${i}` }), collect(v, `${path}/${i}`)));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        places.push({ container: value as Record<string, unknown>, key: k, path: `${path}/${k}` });
        collect(v, `${path}/${k}`);
      }
    }
  };
  collect(flow, '');
  const { container, key, path } = places[Math.floor(random() * places.length)]!;
  const roll = random();
  if (roll < 0.15 && !Array.isArray(container)) {
    delete container[key as string];
    return { flow, what: `deleted ${path}` };
  }
  if (roll < 0.25 && Array.isArray(container)) {
    container.push(structuredClone(container[key as number]));
    return { flow, what: `repeated ${path}` };
  }
  const junk = JUNK[Math.floor(random() * JUNK.length)];
  (container as Record<string | number, unknown>)[key] = structuredClone(junk);
  return { flow, what: `${path} = ${JSON.stringify(junk)}` };
}

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
  h = await env.harness({ simulatorMaxWaitMs: 50 });
});
afterAll(() => env.dispose());

describe('corrupted example flows through the API and the runtime', () => {
  it.each(EXAMPLES)('should answer every step for corruptions of %s with a 2xx or a problem, and never fail a journal entry', async (example) => {
    const original = read(`${example}.flow.json`);
    const scenario = read(`${example}.scenario.json`);
    const serve = requestListener(h.app);
    const random = prng([...example].reduce((n, c) => n * 31 + c.charCodeAt(0), 7));
    const faults: string[] = [];
    const outcomes = new Map<string, number>();
    const check = (step: string, res: request.Response, allowed: number[], label: string) => {
      const key = `${step} ${res.status}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (!allowed.includes(res.status)) faults.push(`${label} ${step}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      else if (res.status >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) {
        faults.push(`${label} ${step}: ${res.status} without a problem document`);
      }
    };

    for (let i = 0; i < CORRUPTIONS_PER_EXAMPLE; i++) {
      const { flow, what } = corrupt(original, random);
      const id = `${example}-${i}`;
      flow.id = id;
      const label = `${example} #${i} (${what})`;
      const created = await request(serve).post('/api/flows').set(h.auth()).send(flow);
      check('create', created, [201, 422], label);
      if (created.status !== 201) continue;
      check('validate', await request(serve).post(`/api/flows/${id}/validate`).set(h.auth()), [200], label);
      check('test-run', await request(serve).post(`/api/flows/${id}/test-run`).set(h.auth()).send(scenario), [200, 422], label);
      const published = await request(serve).post(`/api/flows/${id}/publish`).set(h.auth());
      check('publish', published, [201, 422], label);
      if (published.status === 201) {
        const contact = `c-${id}`;
        for (const text of ['hi', 'menu', 'order 12345', '1', 'yes']) {
          check('say', await request(serve).post('/api/simulator/messages').set(h.auth()).send({ contact, text }), [202], label);
        }
        await h.settle();
        check('transcript', await request(serve).get(`/api/simulator/messages?contact=${contact}`).set(h.auth()), [200], label);
      }
      check('delete', await request(serve).delete(`/api/flows/${id}`).set(h.auth()), [204], label);
    }
    await h.settle();

    expect(faults).toEqual([]);
    const failedEntries = h.store.db.prepare("SELECT kind, error FROM journal WHERE status = 'failed'").all();
    expect(failedEntries).toEqual([]);
    // Settled: every run rests in a wait or has ended; none is left mid-step.
    expect(h.store.db.prepare("SELECT id, waiting FROM runs WHERE status = 'running'").all()).toEqual([]);
    expect(env.takeProblems().filter((p) => /journal entry failed|loop failed/.test(p))).toEqual([]);
    // The corruptions must reach past creation, or the sweep checks only the validator.
    expect(outcomes.get('publish 201')).toBeGreaterThan(5);
    expect(outcomes.get('publish 422')).toBeGreaterThan(5);
    expect(outcomes.get('create 422')).toBeGreaterThan(5);
  });
});
