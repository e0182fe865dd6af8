import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { simulate, runScenario, formatReport, checkScenario } from '../src/index.js';
import type { FlowDefinition, Scenario } from '../src/index.js';
import { catalogue } from './fixtures/nodes.js';
import { edge, flowOf, node } from './fixtures/flows.js';

const signup: FlowDefinition = flowOf(
  [
    node('hello', 'send', { text: 'Hi {{contact.name}}!' }),
    node('ask', 'ask', { question: 'Your email?', variable: 'email', timeoutMs: 600_000 }),
    node('crm', 'http', { url: 'https://crm.test/{{vars.email}}' }),
    node('thanks', 'send', { text: 'Thanks, you are customer {{nodes.crm.id}}' }),
    node('nudge', 'send', { text: 'Still there?' }),
    node('oops', 'send', { text: 'Sorry, {{nodes.crm.error.code}}' }),
  ],
  [
    edge('hello', 'sent', 'ask'),
    edge('ask', 'answered', 'crm'),
    edge('ask', 'timeout', 'nudge'),
    edge('crm', 'success', 'thanks'),
    edge('crm', 'failed', 'oops'),
  ],
  { variables: [{ name: 'email', type: 'string', default: '' }] },
);

const happy: Scenario = {
  name: 'signs up',
  contact: { name: 'Ada' },
  startAt: '2024-05-01T09:00:00Z',
  steps: [{ expect: { status: 'waiting', waiting: { nodeId: 'ask', for: 'reply' } } }, { send: 'ada@example.test' }],
  mocks: { crm: { output: 'success', data: { id: 42 }, set: { contact: { email: 'ada@example.test' } } } },
  expect: {
    path: ['hello', 'ask', 'crm', 'thanks'],
    sent: ['Hi Ada!', 'Your email?', { kind: 'text', text: 'Thanks, you are customer 42' }],
    vars: { email: 'ada@example.test' },
    contact: { email: 'ada@example.test' },
    status: 'done',
    outcome: 'completed',
  },
};

describe('simulate', () => {
  it('should pass a scenario the flow satisfies and report what the run did', () => {
    const report = simulate(signup, catalogue, happy);
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.path).toEqual(['hello', 'ask', 'crm', 'thanks']);
    expect(report.trace.map((p) => p.output)).toEqual(['sent', 'answered', 'success', 'sent']);
    expect(report.sent.map((m) => m.kind)).toEqual(['text', 'text', 'text']);
    expect(report.vars).toEqual({ email: 'ada@example.test' });
    expect(report.status).toBe('done');
    expect(report.outcome).toBe('completed');
    expect(report.steps.map((s) => [s.step, s.action, s.path])).toEqual([
      [0, 'start', ['hello', 'ask']],
      [1, 'expect', []],
      [2, 'send', ['crm', 'thanks']],
    ]);
    expect(report.steps[0]?.sent).toEqual(['Hi Ada!', 'Your email?']);
    expect(report.steps[2]?.at).toBe('2024-05-01T09:00:00.000Z');
  });

  it('should explain every unmet expectation in readable failures', () => {
    const report = simulate(signup, catalogue, {
      ...happy,
      steps: [{ send: 'bob@example.test' }, { expect: { vars: { email: 'ada@example.test' } } }],
      expect: { path: ['hello', 'thanks'], sent: ['Hi Bob!'], vars: { email: 'x', missing: 1 }, status: 'waiting', outcome: 'cancelled' },
    });
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual([
      'after step 2: vars.email: expected "ada@example.test" but was "bob@example.test"',
      'at the end: path: expected hello > thanks but the run went hello > ask > crm > thanks',
      'at the end: sent: expected 1 message but 3 were sent: "Hi Ada!", "Your email?", "Thanks, you are customer 42"',
      'at the end: sent[0]: expected "Hi Bob!" but was "Hi Ada!"',
      'at the end: vars.email: expected "x" but was "bob@example.test"',
      'at the end: vars.missing: expected 1 but it is not set',
      'at the end: status: expected waiting but was done',
      'at the end: outcome: expected cancelled but was completed',
    ]);
    const text = formatReport(report);
    expect(text).toContain('FAIL  signs up');
    expect(text).toContain('1. after step 2: vars.email');
    expect(text).toContain('Path:    hello > ask > crm > thanks');
  });

  it('should fire timers as the clock advances, in due order', () => {
    const report = simulate(signup, catalogue, {
      name: 'times out',
      contact: { name: 'Ada' },
      steps: [{ advance: 'PT9M' }, { expect: { status: 'waiting' } }, { advance: 'PT1M' }],
      expect: { path: ['hello', 'ask', 'nudge'], sent: ['Hi Ada!', 'Your email?', 'Still there?'], status: 'done' },
    });
    expect(report.failures).toEqual([]);
    expect(report.steps.map((s) => s.note)).toEqual(['the run starts', 'clock +PT9M, 0 timers fired', 'expectations met', 'clock +PT1M, 1 timer fired']);
    expect(report.steps[3]?.at).toBe('2024-01-01T00:10:00.000Z');
  });

  it('should fire timers that fall due while earlier ones fire within one advance', () => {
    const delays = flowOf(
      [node('d1', 'delay', { ms: 1_000 }), node('d2', 'delay', { ms: 1_000 }), node('d3', 'delay', { ms: 5_000 })],
      [edge('d1', 'done', 'd2'), edge('d2', 'done', 'd3')],
    );
    const report = simulate(delays, catalogue, { name: 'delays', steps: [{ advance: 'PT3S' }], expect: { path: ['d1', 'd2', 'd3'], status: 'waiting' } });
    expect(report.failures).toEqual([]);
    const later = simulate(delays, catalogue, { name: 'delays', steps: [{ advance: 'PT7S' }], expect: { status: 'done' } });
    expect(later.failures).toEqual([]);
  });

  it('should use mocks per call and report running out of them', () => {
    const loop = flowOf([node('api', 'http', { url: 'x' }), node('again', 'jump', { target: 'api' })], [edge('api', 'error', 'again')]);
    const ok = simulate(loop, catalogue, {
      name: 'retries',
      mocks: { api: [{ output: 'error' }, { output: 'error' }, { output: 'success', data: { n: 3 } }] },
      expect: { path: ['api', 'again', 'api', 'again', 'api'], status: 'done' },
    });
    expect(ok.failures).toEqual([]);
    const short = simulate(loop, catalogue, { name: 'retries', mocks: { api: [{ output: 'error' }] } });
    expect(short.passed).toBe(false);
    expect(short.failures).toEqual(['node "api" was called 2 times but mocks.api lists only 1 outcome']);
    expect(short.steps[0]?.note).toContain('the simulation stopped');
  });

  it('should name the node when an action has no mock, without throwing', () => {
    const report = simulate(signup, catalogue, { name: 'no mock', contact: { name: 'Ada' }, steps: [{ send: 'a@b.c' }, { advance: 'PT1H' }], expect: { status: 'done' } });
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual(['node "crm" (test.http) ran an action but the scenario has no mock for it: add "mocks": { "crm": { "output": "..." } }']);
    expect(report.status).toBe('running');
  });

  it('should deliver mocked errors as node failures', () => {
    const report = simulate(signup, catalogue, {
      name: 'crm down',
      steps: [{ send: 'a@b.c' }],
      contact: { name: 'Ada' },
      mocks: { crm: { error: { code: 'HTTP_503', message: 'unavailable' } } },
      expect: { path: ['hello', 'ask', 'crm', 'oops'], sent: ['Hi Ada!', 'Your email?', 'Sorry, HTTP_503'] },
    });
    expect(report.failures).toEqual([]);
  });

  it('should mock message outcomes too, and fail a scenario whose run fails unexpectedly', () => {
    const report = simulate(signup, catalogue, { name: 'window closed', contact: { name: 'Ada' }, mocks: { hello: { output: 'failed' } } });
    expect(report.status).toBe('failed');
    expect(report.failures).toEqual(['the run failed: Node "hello" left by its "failed" output, which is not connected (NODE_FAILED)']);
    const expected = simulate(signup, catalogue, {
      name: 'window closed',
      contact: { name: 'Ada' },
      mocks: { hello: { output: 'failed' } },
      expect: { status: 'failed', error: { code: 'NODE_FAILED', nodeId: 'hello' } },
    });
    expect(expected.failures).toEqual([]);
  });

  it('should log replies the run ignores and cancel runs', () => {
    const report = simulate(signup, catalogue, {
      name: 'cancel',
      contact: { name: 'Ada' },
      mocks: { hello: { output: 'window_closed' } },
      steps: [{ send: 'hello?' }],
      // An unconnected window_closed output fails the run: nothing fails silently.
      expect: { status: 'failed', path: ['hello'] },
    });
    expect(report.failures).toEqual([]);
    expect(report.steps[1]).toMatchObject({ action: 'send', ignored: true, note: 'contact sends "hello?" (ignored: the run was not waiting for a reply)' });
    const cancelled = simulate(signup, catalogue, {
      name: 'cancel',
      steps: [{ cancel: 'STOP' }, { send: { text: 'Yes', replyTo: 'yes' } }],
      contact: { name: 'Ada' },
      expect: { status: 'done', outcome: 'cancelled', path: ['hello', 'ask'] },
    });
    expect(cancelled.failures).toEqual([]);
  });

  it('should report a malformed scenario instead of throwing', () => {
    const report = runScenario(signup, catalogue, {
      steps: [{ advance: 'soon' }, { send: 1 }, { wait: true }, 'x'],
      mocks: { crm: {} },
      startAt: 'yesterday',
      expect: { status: 'finished', paths: [] },
    });
    expect(report.passed).toBe(false);
    expect(report.status).toBe('not_started');
    expect(report.failures).toEqual([
      'scenario: scenario.name must be a non-empty string',
      'scenario: scenario.startAt must be an ISO-8601 date-time, got "yesterday"',
      'scenario: steps[0].advance must be an ISO-8601 duration such as "PT1H", "P1D" or "PT30M", got "soon"',
      'scenario: steps[1].send must be a text or {"text"?: string, "replyTo"?: string}',
      'scenario: steps[2] must have exactly one of send, advance, expect, cancel; it has wait',
      'scenario: steps[3] must be an object such as {"send": "hi"} or {"advance": "PT1H"}',
      'scenario: mocks.crm needs an output (string) or an error',
      'scenario: expect.status must be one of running, waiting, done, failed',
      'scenario: expect.paths is not something a scenario can expect (use path, sent, vars, contact, status, outcome, error, waiting)',
    ]);
    expect(runScenario(signup, catalogue, null).failures).toEqual(['scenario: the scenario must be a JSON object']);
  });

  it('should report a flow that cannot be compiled', () => {
    const broken = flowOf([node('a', 'unknown')], []);
    const report = simulate(broken, catalogue, { name: 'x' });
    expect(report.passed).toBe(false);
    expect(report.failures[0]).toContain('the flow cannot be compiled');
    expect(report.failures[0]).toContain('"a" has type "test.unknown"');
  });

  it('should describe scenarios with a JSON Schema that accepts the example scenarios', () => {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/scenario.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const check = ajv.compile(schema);
    for (const file of ['signup.pass.scenario.json', 'signup.fail.scenario.json']) {
      const scenario = JSON.parse(readFileSync(new URL(`./fixtures/sim/${file}`, import.meta.url), 'utf8')) as unknown;
      expect([file, check(scenario), check.errors ?? []]).toEqual([file, true, []]);
      expect(checkScenario(scenario)).toEqual([]);
    }
    for (const scenario of [happy, { name: 'x', steps: [{ advance: 'PT1M' }, { cancel: 'x' }, { send: { replyTo: 'b' } }] }]) {
      expect(check(scenario)).toBe(true);
    }
    expect(check({ name: 'x', steps: [{ advance: 'P1M' }] })).toBe(false);
    expect(check({ name: 'x', mocks: { a: { output: 1 } } })).toBe(false);
  });
});
