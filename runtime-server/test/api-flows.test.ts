import { readFileSync } from 'node:fs';
import request from 'supertest';
import { CRON_JOB } from '../src/scheduler/index.js';
import { chainFlow, matchesSchema, startApiEnv, validFlow, type ApiEnv, type Harness } from './api-support.js';
import { waitFor } from './support/wait-for.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
// Whatever a test made the runtime do, it finished without logging a failure.
afterEach(async () => {
  await h.settle();
  expect(env.takeProblems()).toEqual([]);
});
beforeEach(async () => {
  h = await env.harness();
});

/** The recurring triggers the scheduler holds for the workspace under test, as `flowId/triggerId: cron`. */
async function cronsOfWorkspace(): Promise<string[]> {
  const { jobs } = await h.scheduler.agenda.queryJobs({ name: CRON_JOB });
  return jobs
    .map((job) => ({ key: (job.data as { key: string }).key, cron: job.repeatInterval }))
    .filter((j) => j.key.startsWith(`${h.ws}/`))
    .map((j) => `${j.key.slice(h.ws.length + 1)}: ${String(j.cron)}`);
}

const exampleFlow = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../examples/flows/${name}.flow.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

async function createFlow(id = 'f1', overrides: Record<string, unknown> = {}) {
  return request(h.app).post('/api/flows').set(h.auth()).send({ ...validFlow(id), ...overrides }).expect(201);
}

describe('creating and reading flows', () => {
  it('should create a flow and return it with diagnostics, Location and ETag', async () => {
    const res = await createFlow('f1');
    expect(matchesSchema('FlowWithDiagnostics', res.body)).toEqual([]);
    expect(res.body.flow).toMatchObject({ id: 'f1', name: 'Flow f1', revision: 1, latestVersion: 0 });
    expect(res.body.diagnostics).toEqual([]);
    expect(res.headers.location).toBe('/api/flows/f1');
    expect(res.headers.etag).toBe('"1"');
  });

  it('should save a draft with semantic problems and report them as diagnostics', async () => {
    const res = await createFlow('f1', { triggers: [] });
    expect(res.body.diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'NO_TRIGGER', path: '/triggers' })]));
  });

  it('should refuse a structurally invalid document with 422 naming each field', async () => {
    const { name: _name, ...noName } = validFlow('f1');
    const res = await request(h.app)
      .post('/api/flows')
      .set(h.auth())
      .send({ ...noName, nodes: [{ id: 'n 1', type: 'end', typeVersion: 0, position: { x: 0, y: 0 }, params: {} }], extra: 1 })
      .expect(422);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/name', '/extra', '/nodes/0/id', '/nodes/0/typeVersion']));
    expect(res.body).toMatchObject({ status: 422, title: 'Unprocessable Content' });
  });

  it('should answer 409 naming /id when the flow id is taken in the workspace, by a flow or a deleted one', async () => {
    await createFlow('f1');
    const res = await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('f1')).expect(409);
    expect(res.body).toMatchObject({ status: 409, detail: 'A flow with id "f1" already exists in this workspace; PUT /api/flows/f1 to change its draft.' });
    expect(res.body.errors).toEqual([{ field: '/id', message: 'is taken by another flow' }]);
    await request(h.app).delete('/api/flows/f1').set(h.auth()).expect(204);
    const again = await request(h.app).post('/api/flows').set(h.auth()).send(validFlow('f1')).expect(409);
    expect(again.body.detail).toMatch(/^The id "f1" belonged to a flow that was deleted; .* Choose another id\.$/);
    expect(again.body.errors).toEqual([{ field: '/id', message: 'is taken by a deleted flow' }]);
  });

  it('should list summaries and get one flow with its draft', async () => {
    await createFlow('f1');
    await createFlow('f2');
    const list = await request(h.app).get('/api/flows').set(h.auth('staff')).expect(200);
    expect(matchesSchema('FlowList', list.body)).toEqual([]);
    expect(list.body.items.map((f: { id: string }) => f.id).sort()).toEqual(['f1', 'f2']);
    expect(list.body.items[0].draft).toBeUndefined();
    const one = await request(h.app).get('/api/flows/f2').set(h.auth('staff')).expect(200);
    expect(matchesSchema('Flow', one.body)).toEqual([]);
    expect(one.body.draft).toEqual(validFlow('f2'));
    expect(one.headers.etag).toBe('"1"');
  });

  it('should answer 404 for a flow that does not exist', async () => {
    const res = await request(h.app).get('/api/flows/missing').set(h.auth()).expect(404);
    expect(res.body.detail).toContain('missing');
  });
});

describe('updating drafts', () => {
  it('should update with If-Match and bump the revision', async () => {
    await createFlow('f1');
    const res = await request(h.app).put('/api/flows/f1').set(h.auth('staff')).set('if-match', '"1"').send(validFlow('f1', { name: 'Renamed' })).expect(200);
    expect(res.body.flow).toMatchObject({ name: 'Renamed', revision: 2 });
    expect(res.headers.etag).toBe('"2"');
  });

  it('should accept the revision in the body instead of the header', async () => {
    await createFlow('f1');
    const res = await request(h.app).put('/api/flows/f1').set(h.auth()).send({ ...validFlow('f1', { name: 'Again' }), revision: 1 }).expect(200);
    expect(res.body.flow.revision).toBe(2);
    expect(res.body.flow.draft.revision).toBeUndefined();
  });

  it('should answer 409 with the current revision when the draft moved on', async () => {
    await createFlow('f1');
    await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '1').send(validFlow('f1', { name: 'First' })).expect(200);
    const res = await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '1').send(validFlow('f1', { name: 'Stale' })).expect(409);
    expect(res.body).toMatchObject({ status: 409, currentRevision: 2 });
    expect(res.headers.etag).toBe('"2"');
  });

  it('should answer 422 naming both when If-Match and the body name different revisions, and save nothing', async () => {
    await createFlow('f1');
    const res = await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '"1"').send({ ...validFlow('f1', { name: 'Two' }), revision: 2 }).expect(422);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['header.If-Match', '/revision']);
    expect((await h.store.flows.get(h.ws, 'f1'))?.draft.name).toBe('Flow f1');
    await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '"1"').send({ ...validFlow('f1', { name: 'Two' }), revision: 1 }).expect(200);
  });

  it('should answer 428 without a revision, and 422 for a bad If-Match or a different id', async () => {
    await createFlow('f1');
    const none = await request(h.app).put('/api/flows/f1').set(h.auth()).send(validFlow('f1')).expect(428);
    expect(none.body.errors[0].field).toBe('header.If-Match');
    const bad = await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', 'yesterday').send(validFlow('f1')).expect(422);
    expect(bad.body.errors[0].field).toBe('header.If-Match');
    const other = await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '1').send(validFlow('f2')).expect(422);
    expect(other.body.errors).toEqual([{ field: '/id', message: 'must be "f1", the id of this flow' }]);
    const invalid = await request(h.app).put('/api/flows/f1').set(h.auth()).set('if-match', '1').send({ ...validFlow('f1'), revision: 'one' }).expect(422);
    expect(invalid.body.errors[0].field).toBe('/revision');
  });

  it('should delete a flow (204) and then not find it', async () => {
    await createFlow('f1');
    await request(h.app).post('/api/flows/f1/publish').set(h.auth()).expect(201);
    await request(h.app).delete('/api/flows/f1').set(h.auth()).expect(204);
    await request(h.app).get('/api/flows/f1').set(h.auth()).expect(404);
    await request(h.app).delete('/api/flows/f1').set(h.auth()).expect(404);
  });
});

describe('validating', () => {
  it('should validate the stored draft', async () => {
    await createFlow('f1', { triggers: [] });
    const res = await request(h.app).post('/api/flows/f1/validate').set(h.auth('staff')).expect(200);
    expect(matchesSchema('ValidationReport', res.body)).toEqual([]);
    expect(res.body.valid).toBe(true);
    expect(res.body.diagnostics[0]).toMatchObject({ code: 'NO_TRIGGER' });
  });

  it('should validate a document from the body, however malformed, without saving it', async () => {
    const ok = await request(h.app).post('/api/validate').set(h.auth()).send(exampleFlow('welcome-buttons')).expect(200);
    expect(ok.body).toEqual({ valid: true, diagnostics: [] });
    const bad = await request(h.app).post('/api/validate').set(h.auth()).send({ nodes: 'no' }).expect(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.diagnostics.length).toBeGreaterThan(0);
    const list = await request(h.app).get('/api/flows').set(h.auth()).expect(200);
    expect(list.body.items).toEqual([]);
  });
});

describe('publishing, versions and rollback', () => {
  it('should refuse to publish a draft with errors: 422 with diagnostics and field errors', async () => {
    await createFlow('f1', { nodes: [{ id: 'n1', type: 'no_such_node', typeVersion: 1, position: { x: 0, y: 0 }, params: {} }] });
    const res = await request(h.app).post('/api/flows/f1/publish').set(h.auth()).expect(422);
    expect(res.body.diagnostics).toEqual([expect.objectContaining({ code: 'UNKNOWN_NODE_TYPE', path: '/nodes/0/type', nodeId: 'n1' })]);
    expect(res.body.errors).toEqual([{ field: '/nodes/0/type', message: expect.stringContaining('no_such_node') }]);
  });

  it('should save a draft whose keyword pattern does not parse, with the reason as a diagnostic, and refuse to publish it', async () => {
    const flow = { ...validFlow('re'), triggers: [{ id: 'k', type: 'keyword', params: { keywords: ['(unclosed'], match: 'regex' } }] };
    const created = await request(h.app).post('/api/flows').set(h.auth()).send(flow).expect(201);
    expect(created.body.diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', path: '/triggers/0/params/keywords/0', message: expect.stringMatching(/missing closing \)/) }),
    ]);
    await request(h.app).post('/api/flows/re/publish').set(h.auth()).expect(422);
  });

  it('should refuse to publish a keyword pattern RE2 cannot run, naming the keyword', async () => {
    await createFlow('f1', { triggers: [{ id: 'k', type: 'keyword', params: { keywords: ['price', 'price(?!less)'], match: 'regex' } }] });
    const res = await request(h.app).post('/api/flows/f1/publish').set(h.auth()).expect(422);
    expect(res.body.errors).toEqual([{ field: '/triggers/0/params/keywords/1', message: expect.stringMatching(/lookahead, lookbehind and backreferences are not supported/) }]);
  });

  it('should publish versions, list and get them, and roll back', async () => {
    await request(h.app).post('/api/flows').set(h.auth()).send(exampleFlow('welcome-buttons')).expect(201);
    const v1 = await request(h.app).post('/api/flows/welcome-buttons/publish').set(h.auth('team_admin')).expect(201);
    expect(matchesSchema('Published', v1.body)).toEqual([]);
    expect(v1.body.version).toMatchObject({ flowId: 'welcome-buttons', version: 1, active: true, publishedBy: `key:${h.keyIds.team_admin}` });
    expect(v1.headers.location).toBe('/api/flows/welcome-buttons/versions/1');
    const draft = (await request(h.app).get('/api/flows/welcome-buttons').set(h.auth())).body;
    await request(h.app).put('/api/flows/welcome-buttons').set(h.auth()).set('if-match', String(draft.revision)).send({ ...draft.draft, name: 'Welcome v2' }).expect(200);
    await request(h.app).post('/api/flows/welcome-buttons/publish').set(h.auth()).expect(201);

    const versions = await request(h.app).get('/api/flows/welcome-buttons/versions').set(h.auth('staff')).expect(200);
    expect(matchesSchema('FlowVersionList', versions.body)).toEqual([]);
    expect(versions.body.items.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([[1, false], [2, true]]);
    const one = await request(h.app).get('/api/flows/welcome-buttons/versions/1').set(h.auth('staff')).expect(200);
    expect(matchesSchema('FlowVersion', one.body)).toEqual([]);
    expect(one.body.definition.name).toBe('Welcome menu');
    await request(h.app).get('/api/flows/welcome-buttons/versions/9').set(h.auth()).expect(404);
    await request(h.app).get('/api/flows/welcome-buttons/versions/one').set(h.auth()).expect(404);

    const rolled = await request(h.app).post('/api/flows/welcome-buttons/rollback').set(h.auth()).send({ version: 1 }).expect(200);
    expect(rolled.body).toMatchObject({ activeVersion: 1, latestVersion: 2 });
    const missing = await request(h.app).post('/api/flows/welcome-buttons/rollback').set(h.auth()).send({ version: 7 }).expect(422);
    expect(missing.body.errors).toEqual([{ field: '/version', message: 'flow welcome-buttons has no version 7' }]);
    const invalid = await request(h.app).post('/api/flows/welcome-buttons/rollback').set(h.auth()).send({ version: 0 }).expect(422);
    expect(invalid.body.errors[0].field).toBe('/version');
  });

  it('should register a published flow\'s schedule with the scheduler, and the cron of the version rolled back to', async () => {
    const daily = (cron: string) =>
      chainFlow('daily', { id: 'morning', type: 'schedule', params: { cron, timezone: 'Asia/Hong_Kong' } }, [['end', 'end', {}]]);
    await h.publish(daily('0 9 * * *'));
    expect(await cronsOfWorkspace()).toEqual(['daily/morning: 0 9 * * *']);
    await request(h.app).put('/api/flows/daily').set(h.auth()).set('if-match', '1').send(daily('30 8 * * 1-5')).expect(200);
    await request(h.app).post('/api/flows/daily/publish').set(h.auth()).expect(201);
    expect(await cronsOfWorkspace()).toEqual(['daily/morning: 30 8 * * 1-5']);
    await request(h.app).post('/api/flows/daily/rollback').set(h.auth()).send({ version: 1 }).expect(200);
    expect(await cronsOfWorkspace()).toEqual(['daily/morning: 0 9 * * *']);
  });

  it('should remove a schedule when the active version drops it and when the flow is deleted', async () => {
    const withTrigger = chainFlow('nightly', { id: 'night', type: 'schedule', params: { cron: '0 2 * * *', timezone: 'UTC' } }, [['end', 'end', {}]]);
    await h.publish(withTrigger);
    expect(await cronsOfWorkspace()).toEqual(['nightly/night: 0 2 * * *']);
    const withoutTrigger = { ...withTrigger, triggers: [{ id: 'api', type: 'api' as const, params: {} }] };
    await request(h.app).put('/api/flows/nightly').set(h.auth()).set('if-match', '1').send(withoutTrigger).expect(200);
    await request(h.app).post('/api/flows/nightly/publish').set(h.auth()).expect(201);
    expect(await cronsOfWorkspace()).toEqual([]);
    await request(h.app).post('/api/flows/nightly/rollback').set(h.auth()).send({ version: 1 }).expect(200);
    expect(await cronsOfWorkspace()).toEqual(['nightly/night: 0 2 * * *']);
    await request(h.app).delete('/api/flows/nightly').set(h.auth()).expect(204);
    expect(await cronsOfWorkspace()).toEqual([]);
  });

  // Only the version that was active is looked at when another replaces it, so a cron left behind
  // some other way (a crash between a publish and its sync) must go by itself.
  it('should cancel, when it fires, a cron whose trigger no active version has', async () => {
    await h.publish(chainFlow('ticker', { id: 'api', type: 'api', params: {} }, [['end', 'end', {}]]));
    await h.scheduler.scheduleCron({
      id: `${h.ws}/ticker/gone`,
      cron: '* * * * * *',
      timezone: 'UTC',
      payload: { workspaceId: h.ws, flowId: 'ticker', triggerId: 'gone' },
    });
    expect(await cronsOfWorkspace()).toEqual(['ticker/gone: * * * * * *']);
    await waitFor(async () => (await cronsOfWorkspace()).length === 0, 5_000);
    expect(await h.runs({ flowId: 'ticker' })).toEqual([]);
  });

  it('should refuse to publish a schedule the scheduler would refuse: 422 naming the field, nothing published', async () => {
    const scheduled = (params: Record<string, string>) => chainFlow('sched', { id: 'tick', type: 'schedule', params }, [['end', 'end', {}]]);
    await request(h.app).post('/api/flows').set(h.auth()).send(scheduled({ cron: '0 9 31 2 *', timezone: 'Mars/Olympus' })).expect(201);
    const res = await request(h.app).post('/api/flows/sched/publish').set(h.auth()).expect(422);
    expect(res.body.errors).toEqual([
      { field: '/triggers/0/params/cron', message: expect.stringMatching(/names a day the month never has/) },
      { field: '/triggers/0/params/timezone', message: expect.stringMatching(/is not a time zone this server knows/) },
    ]);
    expect(await h.store.flows.listVersions(h.ws, 'sched')).toEqual([]);
    expect(await cronsOfWorkspace()).toEqual([]);
  });

  it('should still schedule every other flow at start when a version published before the check carries a bad cron', async () => {
    // Stored as an older release of Convoflow would have published them, past today's validator.
    const legacy = chainFlow('legacy', { id: 'old', type: 'schedule', params: { cron: '61 9 * * *', timezone: 'UTC' } }, [['end', 'end', {}]]);
    const fine = chainFlow('fine', { id: 'new', type: 'schedule', params: { cron: '0 7 * * *', timezone: 'UTC' } }, [['end', 'end', {}]]);
    for (const flow of [legacy, fine]) {
      await h.store.flows.create({ workspaceId: h.ws, draft: flow, at: h.clock.now });
      await h.store.flows.publish(h.ws, flow.id, 'test', h.clock.now);
    }
    expect(await cronsOfWorkspace()).toEqual([]);
    await env.runtime.stop();
    await env.runtime.start();
    expect(await cronsOfWorkspace()).toEqual(['fine/new: 0 7 * * *']);
    expect(env.takeProblems()).toEqual([expect.stringMatching(/^error: schedule not registered .*"flowId":"legacy".*61/)]);
  });

  it('should answer 404 when publishing or listing versions of a missing flow', async () => {
    await request(h.app).post('/api/flows/nope/publish').set(h.auth()).expect(404);
    await request(h.app).get('/api/flows/nope/versions').set(h.auth()).expect(404);
    await request(h.app).post('/api/flows/nope/rollback').set(h.auth()).send({ version: 1 }).expect(404);
  });
});

describe('starting runs by API', () => {
  it('should start a run of the published flow for a known contact (202), once per Idempotency-Key', async () => {
    const order = chainFlow('order', { id: 'api', type: 'api', params: {} }, [['ack', 'send_text', { text: 'order {{vars.order}} received' }]]);
    await h.publish(order);
    const contact = await h.store.contacts.create(h.ws, { name: 'Ann' }, [{ channel: 'simulator', externalId: 'ann' }], h.clock.now);
    const res = await request(h.app)
      .post('/api/flows/order/runs')
      .set(h.auth('staff'))
      .set('idempotency-key', 'order-42')
      .send({ contactId: contact.id, vars: { order: 42 } })
      .expect(202);
    expect(matchesSchema('Accepted', res.body)).toEqual([]);
    expect(res.body.accepted).toBe(true);
    const again = await request(h.app).post('/api/flows/order/runs').set(h.auth()).set('idempotency-key', 'order-42').send({ contactId: contact.id }).expect(202);
    expect(again.body).toEqual({ accepted: false, journalId: res.body.journalId });
    const runs = await h.runs();
    expect(runs).toEqual([expect.objectContaining({ flowId: 'order', contactId: contact.id, status: 'done' })]);
    const transcript = await request(h.app).get('/api/simulator/messages?contact=ann').set(h.auth()).expect(200);
    expect(transcript.body.items).toEqual([expect.objectContaining({ runId: runs[0]!.id, message: { kind: 'text', text: 'order 42 received' } })]);
  });

  it('should refuse (409) an API start of a flow that has no api trigger', async () => {
    await h.publish(chainFlow('hooked', { id: 'hook', type: 'webhook', params: { secret: 's'.repeat(24) } }, [['end', 'end', {}]]));
    const contact = await h.store.contacts.create(h.ws, {}, [], h.clock.now);
    const res = await request(h.app).post('/api/flows/hooked/runs').set(h.auth()).send({ contactId: contact.id }).expect(409);
    expect(res.body.detail).toMatch(/started by API/);
    expect(await h.runs()).toEqual([]);
  });

  it('should answer 409 for an unpublished flow and 422 for an unknown contact', async () => {
    await createFlow('f1', { triggers: [{ id: 'api', type: 'api', params: {} }] });
    const contact = await h.store.contacts.create(h.ws, {}, [], h.clock.now);
    const unpublished = await request(h.app).post('/api/flows/f1/runs').set(h.auth()).send({ contactId: contact.id }).expect(409);
    expect(unpublished.body.detail).toMatch(/publish/);
    await request(h.app).post('/api/flows/f1/publish').set(h.auth()).expect(201);
    const unknown = await request(h.app).post('/api/flows/f1/runs').set(h.auth()).send({ contactId: 'nobody' }).expect(422);
    expect(unknown.body.errors).toEqual([{ field: '/contactId', message: 'no contact nobody in this workspace' }]);
    const noContact = await request(h.app).post('/api/flows/f1/runs').set(h.auth()).send({ vars: {} }).expect(422);
    expect(noContact.body.errors).toEqual([{ field: '/contactId', message: 'is required' }]);
  });
});

describe('test runs', () => {
  const scenario = (name: string) => JSON.parse(readFileSync(new URL(`../../examples/flows/${name}.scenario.json`, import.meta.url), 'utf8'));

  it('should run the draft in the engine simulator and return its report', async () => {
    await request(h.app).post('/api/flows').set(h.auth()).send(exampleFlow('welcome-buttons')).expect(201);
    const res = await request(h.app).post('/api/flows/welcome-buttons/test-run').set(h.auth('staff')).send(scenario('welcome-buttons')).expect(200);
    expect(matchesSchema('TestReport', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ passed: true, failures: [] });
    expect(res.body.path[0]).toBe('welcome');
    expect(await h.store.runs.list(h.ws, {})).toEqual({ items: [] });
  });

  it('should report failed expectations as passed=false with reasons (200)', async () => {
    await request(h.app).post('/api/flows').set(h.auth()).send(exampleFlow('welcome-buttons')).expect(201);
    const wrong = { ...scenario('welcome-buttons'), expect: { path: ['nowhere'] } };
    const res = await request(h.app).post('/api/flows/welcome-buttons/test-run').set(h.auth()).send(wrong).expect(200);
    expect(res.body.passed).toBe(false);
    expect(res.body.failures.length).toBeGreaterThan(0);
  });

  it('should answer 422 naming the bad scenario fields', async () => {
    await createFlow('f1');
    const res = await request(h.app).post('/api/flows/f1/test-run').set(h.auth()).send({ name: 'x', steps: [{ send: 'hi' }, { advance: 'soon' }] }).expect(422);
    expect(res.body.errors).toEqual([{ field: '/steps/1/advance', message: expect.stringMatching(/^must match pattern/) }]);
    const unknownStep = await request(h.app).post('/api/flows/f1/test-run').set(h.auth()).send({ name: 'x', steps: [{ wave: true }] }).expect(422);
    expect(unknownStep.body.errors).toEqual([{ field: '/steps/0', message: expect.stringMatching(/^must /) }]);
    const noName = await request(h.app).post('/api/flows/f1/test-run').set(h.auth()).send({ steps: [] }).expect(422);
    expect(noName.body.errors).toEqual([{ field: '/name', message: 'is required' }]);
    const notObject = await request(h.app).post('/api/flows/f1/test-run').set(h.auth()).send([1, 2]).expect(422);
    expect(notObject.body.errors[0]).toMatchObject({ field: '/' });
  });

  it('should answer 422 with diagnostics when the draft has errors, and 404 for a missing flow', async () => {
    await createFlow('f1', { nodes: [{ id: 'n1', type: 'no_such_node', typeVersion: 1, position: { x: 0, y: 0 }, params: {} }] });
    const res = await request(h.app).post('/api/flows/f1/test-run').set(h.auth()).send({ name: 'x' }).expect(422);
    expect(res.body.diagnostics[0]).toMatchObject({ code: 'UNKNOWN_NODE_TYPE' });
    await request(h.app).post('/api/flows/none/test-run').set(h.auth()).send({ name: 'x' }).expect(404);
  });
});

describe('flow documents larger than other bodies', () => {
  /** A chain of `n` send nodes with a sentence each, as a designer saves it (~270 bytes a node). */
  const bigFlow = (id: string, n: number) =>
    chainFlow(id, { id: 'api', type: 'api', params: {} }, [
      ...Array.from({ length: n }, (_, i): [string, string, Record<string, string>, string] => [
        `step_${i}`,
        'send_text',
        { text: `Step ${i} of our onboarding: here is what happens next, {{contact.name}}. Reply STOP to leave.` },
        'sent',
      ]),
      ['bye', 'end', {}],
    ]);

  it('should save, validate, update and publish a 1,500-node flow (~420 KB, over the 256 KB of other bodies)', async () => {
    const flow = bigFlow('big', 1_500);
    expect(JSON.stringify(flow).length).toBeGreaterThan(400_000);
    const created = await request(h.app).post('/api/flows').set(h.auth()).send(flow).expect(201);
    expect(created.body.diagnostics).toEqual([]);
    await request(h.app).post('/api/validate').set(h.auth()).send(flow).expect(200);
    await request(h.app).put('/api/flows/big').set(h.auth()).set('if-match', '1').send({ ...flow, name: 'Bigger' }).expect(200);
    await request(h.app).post('/api/flows/big/publish').set(h.auth()).expect(201);
  });

  it('should refuse a flow over the flow limit, and any other body over 256 KB, with 413', async () => {
    const res = await request(h.app).post('/api/flows').set(h.auth()).send(bigFlow('huge', 8_000)).expect(413);
    expect(res.body).toMatchObject({ status: 413, detail: `The body exceeds the limit of ${2 * 1024 * 1024} bytes.` });
    const contact = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { notes: 'n'.repeat(300_000) } }).expect(413);
    expect(contact.body.detail).toBe(`The body exceeds the limit of ${256 * 1024} bytes.`);
    expect(await h.store.flows.get(h.ws, 'huge')).toBeUndefined();
  });
});
