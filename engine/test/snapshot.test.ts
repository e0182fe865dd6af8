import { compile, start, step, messageReceived, nodeCompleted, timerFired, runCancelled, renderTemplate } from '../src/index.js';
import type { CompiledFlow, Effect, FlowEvent, JsonValue, RunSnapshot, StepResult } from '../src/index.js';
import { catalogue } from './fixtures/nodes.js';
import { edge, flowOf, node } from './fixtures/flows.js';

const T0 = 1_700_000_000_000;

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Reacts like a runtime would: completes every send, fires every timer, answers every question. */
function nextEvent(result: StepResult, at: number, round: number): FlowEvent | undefined {
  const effect = result.effects.find((e: Effect) => e.type === 'sendMessage' || e.type === 'executeNode');
  if (effect) {
    const output = effect.type === 'executeNode' ? 'success' : 'sent';
    return nodeCompleted({ nodeId: effect.nodeId, seq: effect.seq, output, data: { round }, at });
  }
  if (result.waiting?.for === 'reply') {
    return messageReceived({ id: `m${round}`, channel: 'simulator', from: 'ada', text: round < 12 ? 'yes' : 'no', sentAt: at }, at);
  }
  const timer = result.effects.find((e) => e.type === 'scheduleTimer');
  return timer && timer.type === 'scheduleTimer' ? timerFired(timer.timerId, timer.dueAt) : undefined;
}

const flow = flowOf(
  [
    node('hello', 'send', { text: 'Hi {{contact.name}}' }),
    node('ask', 'ask', { question: 'Continue?', variable: 'answer' }),
    node('check', 'condition', { value: '{{vars.answer}}', equals: 'yes' }),
    node('count', 'set', { variable: 'last', value: '{{vars.answer}}/{{nodes.hello.round}}' }),
    node('api', 'http', { url: 'https://x.test/{{vars.answer}}' }),
    node('pause', 'delay', { ms: 1000 }),
    node('split', 'split'),
    node('back', 'jump', { target: 'ask' }),
    node('bye', 'end'),
  ],
  [
    edge('hello', 'sent', 'ask'),
    edge('ask', 'answered', 'check'),
    edge('check', 'true', 'count'),
    edge('check', 'false', 'bye'),
    edge('count', 'next', 'api'),
    edge('api', 'success', 'pause'),
    edge('pause', 'done', 'split'),
    edge('split', 'a', 'back'),
    edge('split', 'b', 'back'),
  ],
  { variables: [{ name: 'answer', type: 'string', default: '' }] },
);

function drive(compiled: CompiledFlow, runId: string, restore: (s: RunSnapshot) => RunSnapshot): StepResult[] {
  const results = [start(compiled, { runId, at: T0, trigger: {}, contact: { name: 'Ada' } })];
  for (let round = 1; round < 40; round++) {
    const last = results[results.length - 1] as StepResult;
    if (last.status === 'done' || last.status === 'failed') break;
    const event = nextEvent(last, T0 + round * 1000, round);
    if (!event) break;
    results.push(step(compiled, restore(last.snapshot), event));
  }
  return results;
}

describe('snapshots', () => {
  it('should be plain JSON', () => {
    const compiled = compile(flow, catalogue);
    for (const result of drive(compiled, 'run-json', (s) => s)) {
      expect(json(result.snapshot)).toEqual(result.snapshot);
    }
  });

  it('should behave identically when every snapshot is restored from JSON', () => {
    const compiled = compile(flow, catalogue);
    const live = drive(compiled, 'run-rt', (s) => s);
    const restored = drive(compiled, 'run-rt', (s) => json(s));
    expect(live.length).toBeGreaterThan(10);
    expect(live[live.length - 1]?.status).toBe('done');
    expect(json(restored)).toEqual(json(live));
    expect(live.map((r) => r.path.map((p) => p.nodeId).join('>'))).toContain('ask>check>count>api');
  });

  it('should behave identically with a fresh compile of the same flow', () => {
    const a = drive(compile(flow, catalogue), 'run-fresh', (s) => json(s));
    const b = drive(compile(json(flow), catalogue), 'run-fresh', (s) => json(s));
    expect(json(b)).toEqual(json(a));
  });

  it('should never mutate the snapshot it steps from', () => {
    const compiled = compile(flow, catalogue);
    const frozen = drive(compiled, 'run-frozen', (s) => deepFreeze(json(s)));
    expect(frozen[frozen.length - 1]?.status).toBe('done');
    expect(json(frozen)).toEqual(json(drive(compiled, 'run-frozen', (s) => s)));
  });

  it('should step a stored snapshot again and again with the same result', () => {
    const compiled = compile(flow, catalogue);
    const first = start(compiled, { runId: 'r', at: T0, trigger: {}, contact: { name: 'Ada' } });
    const stored = JSON.stringify(first.snapshot);
    const event = nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 1 });
    const once = step(compiled, JSON.parse(stored) as RunSnapshot, event);
    const twice = step(compiled, JSON.parse(stored) as RunSnapshot, event);
    expect(json(twice)).toEqual(json(once));
    expect(json(step(compiled, first.snapshot, runCancelled('x', T0 + 2)))).toEqual(json(step(compiled, JSON.parse(stored) as RunSnapshot, runCancelled('x', T0 + 2))));
  });

  it('should refuse a snapshot that does not belong to the flow', () => {
    const compiled = compile(flow, catalogue);
    expect(() => step(compiled, { value: 'n:elsewhere', status: 'active', context: {} }, runCancelled('x', T0))).toThrow('Not a run snapshot');
  });

  it('should render param templates exactly like renderTemplate', () => {
    const templates = [
      'plain',
      '{{vars.s}}',
      ' {{ vars.s }} and {{contact.name}}! ',
      '{{vars.n}}|{{vars.zero}}|{{vars.f}}|{{vars.nil}}|{{vars.list}}|{{vars.obj}}|{{vars.list.length}}',
      '{{vars.constructor}}',
      '{{#if vars.f}}yes{{else}}no{{/if}}',
      '\\{{vars.s}}',
      '{{{vars.s}}}',
      '{{~vars.s~}}',
    ];
    const vars: Record<string, JsonValue> = { s: 'a<b', n: 1.5, zero: 0, f: false, nil: null, list: [1, 'x'], obj: { k: 1 } };
    const withVars = flowOf([node('set', 'set', { variable: 'out', value: '' })], [], {
      variables: Object.entries(vars).map(([name, value]) => ({ name, type: 'string' as const, default: value })),
    });
    for (const template of templates) {
      const f = json(withVars);
      (f.nodes[0] as { params: Record<string, JsonValue> }).params.value = template;
      const result = start(compile(f, catalogue), { runId: 'r', at: T0, trigger: {}, contact: { name: 'Ada' } });
      const expected = renderTemplate(template, { vars, contact: { name: 'Ada' }, trigger: {}, nodes: {}, run: { id: 'r', startedAt: T0 } });
      expect([template, result.vars.out]).toEqual([template, expected]);
    }
    for (const missing of ['{{vars.nope}}', '{{vars.s.x.y}}', '{{nothing}}', '{{vars.nil.x}}']) {
      const f = json(withVars);
      (f.nodes[0] as { params: Record<string, JsonValue> }).params.value = missing;
      const result = start(compile(f, catalogue), { runId: 'r', at: T0, trigger: {}, contact: {} });
      expect([missing, result.error?.code]).toEqual([missing, 'TEMPLATE_ERROR']);
    }
  });
});
