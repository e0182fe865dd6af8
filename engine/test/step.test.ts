import {
  compile,
  start,
  step,
  messageReceived,
  nodeCompleted,
  nodeFailed,
  timerFired,
  runCancelled,
  runAborted,
  RUN_LIMITS,
} from '../src/index.js';
import type { Effect, FlowDefinition, FlowEvent, InboundMessage, RunInput, StepResult } from '../src/index.js';
import { catalogue } from './fixtures/nodes.js';
import { edge, flowOf, node } from './fixtures/flows.js';

const T0 = 1_700_000_000_000;
const input = (extra: Partial<RunInput> = {}): RunInput => ({
  runId: 'run-1',
  at: T0,
  trigger: { keyword: 'hi' },
  contact: { name: 'Ada', plan: 'pro' },
  ...extra,
});
const reply = (text: string, at = T0 + 10): FlowEvent =>
  messageReceived({ id: `m-${text}`, channel: 'simulator', from: 'ada', text, sentAt: at } satisfies InboundMessage, at);

type EffectOf<K extends Effect['type']> = Extract<Effect, { type: K }>;
const only = <K extends Effect['type']>(result: StepResult, type: K): EffectOf<K>[] =>
  result.effects.filter((e): e is EffectOf<K> => e.type === type);
const run = (flow: FlowDefinition, extra: Partial<RunInput> = {}) => {
  const compiled = compile(flow, catalogue);
  return { compiled, first: start(compiled, input(extra)) };
};

describe('start and step: pure nodes', () => {
  const flow = flowOf(
    [
      node('check', 'condition', { value: '{{contact.plan}}', equals: 'pro' }),
      node('setPro', 'set', { variable: 'tier', value: 'gold for {{contact.name}}', contactField: 'tier' }),
      node('setFree', 'set', { variable: 'tier', value: 'free' }),
      node('bye', 'end'),
    ],
    [edge('check', 'true', 'setPro'), edge('check', 'false', 'setFree'), edge('setPro', 'next', 'bye'), edge('setFree', 'next', 'bye')],
    { variables: [{ name: 'tier', type: 'string', default: 'none' }, { name: 'lang', type: 'string', default: 'en' }] },
  );

  it('should resolve pure nodes inside the step and follow the output edges to the end', () => {
    const { first } = run(flow);
    expect(first.status).toBe('done');
    expect(first.outcome).toBe('completed');
    expect(first.effects).toEqual([]);
    expect(first.path).toEqual([
      { nodeId: 'check', output: 'true', at: T0 },
      { nodeId: 'setPro', output: 'next', at: T0 },
      { nodeId: 'bye', output: 'end', at: T0 },
    ]);
    expect(first.vars).toEqual({ tier: 'gold for Ada', lang: 'en' });
  });

  it('should take the other branch when the condition is false', () => {
    const { first } = run(flow, { contact: { name: 'Bob', plan: 'free' } });
    expect(first.path.map((p) => p.nodeId)).toEqual(['check', 'setFree', 'bye']);
    expect(first.vars.tier).toBe('free');
    expect(first.contactChanges).toBeUndefined();
  });

  it('should store node data under nodes.<id> and report the contact fields set in the step', () => {
    const { first } = run(flow);
    expect((first.snapshot.context as { nodes: Record<string, unknown> }).nodes.check).toEqual({ value: 'pro' });
    expect(first.contactChanges).toEqual({ tier: 'gold for Ada' });
    expect(first.contact).toEqual({ name: 'Ada', plan: 'pro', tier: 'gold for Ada' });
  });

  it('should let input.vars override the declared defaults and keep extra input variables', () => {
    const { first } = run(flow, { vars: { lang: 'fr', source: 'ad' } });
    expect(first.vars).toEqual({ tier: 'gold for Ada', lang: 'fr', source: 'ad' });
  });

  it('should expose trigger, run and nodes.<id> to templates', () => {
    const f = flowOf(
      [
        node('check', 'condition', { value: '{{contact.plan}}', equals: 'pro' }),
        node('set', 'set', { variable: 'summary', value: '{{trigger.keyword}}/{{run.id}}/{{nodes.check.value}}' }),
      ],
      [edge('check', 'true', 'set')],
    );
    expect(run(f).first.vars.summary).toBe('hi/run-1/pro');
  });

  it('should end the run as completed when a node leaves by an output with no edge', () => {
    const f = flowOf([node('check', 'condition', { value: 'a', equals: 'b' }), node('bye', 'end')], [edge('check', 'true', 'bye')]);
    const { first } = run(f);
    expect(first.status).toBe('done');
    expect(first.outcome).toBe('completed');
    expect(first.path).toEqual([{ nodeId: 'check', output: 'false', at: T0 }]);
  });

  it('should continue at the target of a jump node', () => {
    const f = flowOf(
      [node('go', 'jump', { target: 'far' }), node('skipped', 'set', { variable: 'x', value: 'no' }), node('far', 'set', { variable: 'x', value: 'yes' })],
      [edge('skipped', 'next', 'far')],
      { variables: [{ name: 'x', type: 'string', default: '' }] },
    );
    const { first } = run(f);
    expect(first.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['go', 'jump'],
      ['far', 'next'],
    ]);
    expect(first.vars.x).toBe('yes');
  });

  it('should draw deterministic randomness from the run id, node id and visit', () => {
    const f = flowOf([node('split', 'split')], []);
    const draws = (runId: string): unknown => (run(f, { runId }).first.snapshot.context as { nodes: Record<string, { random: number }> }).nodes.split?.random;
    expect(draws('run-a')).toBe(draws('run-a'));
    const values = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8'].map((id) => draws(id) as number);
    expect(new Set(values).size).toBe(values.length);
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe('start and step: failures', () => {
  it('should leave by the wired failed output when a template cannot render', () => {
    const f = flowOf(
      [node('check', 'condition', { value: '{{vars.missing}}', equals: 'x' }), node('oops', 'set', { variable: 'err', value: '{{nodes.check.error.code}}' })],
      [edge('check', 'failed', 'oops')],
    );
    const { first } = run(f);
    expect(first.status).toBe('done');
    expect(first.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['check', 'failed'],
      ['oops', 'next'],
    ]);
    expect(first.vars.err).toBe('TEMPLATE_ERROR');
  });

  it('should fail the run naming the node when a template error has no failed edge', () => {
    const f = flowOf([node('check', 'condition', { value: 'Hi {{contact.nickname}}', equals: 'x' })], []);
    const { first } = run(f);
    expect(first.status).toBe('failed');
    expect(first.outcome).toBe('failed');
    expect(first.error).toEqual({ code: 'TEMPLATE_ERROR', message: expect.stringContaining('Node "check" failed'), nodeId: 'check' });
    expect(first.error?.message).toContain('nickname');
  });

  it('should treat an error thrown by a node as leaving by failed', () => {
    const { first } = run(flowOf([node('b', 'broken')], []));
    expect(first.status).toBe('failed');
    expect(first.error).toMatchObject({ code: 'NODE_ERROR', nodeId: 'b' });
    expect(first.error?.message).toContain('boom');
  });

  it('should fail the run with LOOP_LIMIT when pure nodes loop without waiting', () => {
    const f = flowOf(
      [node('a', 'set', { variable: 'x', value: '1' }), node('b', 'jump', { target: 'a' })],
      [edge('a', 'next', 'b')],
    );
    const compiled = compile(f, catalogue, { maxNodeEntriesPerStep: 50 });
    const result = start(compiled, input());
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('LOOP_LIMIT');
    expect(result.path).toHaveLength(51);
    expect(start(compile(f, catalogue), input()).path).toHaveLength(1_001);
  });

  it('should fail a template that would render more than RUN_LIMITS.maxValueChars, whichever renderer takes it', () => {
    const long = 'a'.repeat(60_000); // two of them are too many
    for (const template of ['{{contact.name}}{{contact.name}}', '{{#if contact.name}}{{contact.name}}{{contact.name}}{{/if}}']) {
      const { first } = run(flowOf([node('grow', 'set', { variable: 'x', value: template })], []), { contact: { name: long } });
      expect(first.status).toBe('failed');
      expect(first.error).toEqual({
        code: 'TEMPLATE_ERROR',
        message: 'Node "grow" failed: the template renders to more than 100,000 characters',
        nodeId: 'grow',
      });
    }
    const { first } = run(flowOf([node('fits', 'set', { variable: 'x', value: '{{contact.name}}' })], []), { contact: { name: long } });
    expect(first.vars.x).toBe(long);
    expect(RUN_LIMITS.maxValueChars).toBe(100_000);
  });

  it('should refuse a value larger than RUN_LIMITS.maxValueChars, setting none of the node\'s changes', () => {
    const big = 'y'.repeat(150_000);
    const { first } = run(flowOf([node('big', 'set', { variable: 'x', value: big, contactField: 'note' })], []));
    expect(first.status).toBe('failed');
    expect(first.error).toEqual({
      code: 'VALUE_TOO_LARGE',
      message: 'Node "big" failed: variable "x" would hold 150,000 characters; a value holds at most 100,000',
      nodeId: 'big',
    });
    expect(first.vars.x).toBeUndefined();
    expect(first.contactChanges).toBeUndefined();
  });

  it('should refuse the change that would take a run past RUN_LIMITS.maxStateChars, keeping what came before', () => {
    const value = 'z'.repeat(95_000);
    const count = Math.ceil(RUN_LIMITS.maxStateChars / value.length);
    const ids = Array.from({ length: count }, (_, i) => `set${i}`);
    const f = flowOf(
      ids.map((id, i) => node(id, 'set', { variable: `v${i}`, value })),
      ids.slice(1).map((id, i) => edge(ids[i]!, 'next', id)),
    );
    const { first } = run(f);
    const last = ids.at(-1)!;
    expect(first.status).toBe('failed');
    expect(first.error).toMatchObject({ code: 'STATE_TOO_LARGE', nodeId: last });
    expect(first.error?.message).toMatch(/^Node "set\d+" failed: the run's variables, contact and node outputs would hold about 2,0\d\d,\d{3} characters; a run holds at most 2,000,000$/);
    expect(Object.keys(first.vars)).toHaveLength(count - 1);
  });

  it('should refuse an outcome that sets a value larger than RUN_LIMITS.maxValueChars, by the node\'s failed output', () => {
    const f = flowOf([node('call', 'http', { url: 'https://example.test' }), node('after', 'set', { variable: 'why', value: '{{nodes.call.error.code}}' })], [
      edge('call', 'failed', 'after'),
    ]);
    const { compiled, first } = run(f);
    const items = Array.from({ length: 20_000 }, (_, i) => ({ i }));
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'call', seq: 1, output: 'success', set: { vars: { items } }, at: T0 + 5 }));
    expect(second.status).toBe('done');
    expect(second.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['call', 'failed'],
      ['after', 'next'],
    ]);
    expect(second.vars.why).toBe('VALUE_TOO_LARGE');
    expect(second.vars.items).toBeUndefined();
  });

  it('should fail a run whose wait node rests with nothing that could wake it', () => {
    const { first } = run(flowOf([node('s', 'stuck')], []));
    expect(first.status).toBe('failed');
    expect(first.error).toMatchObject({ code: 'NODE_STUCK', nodeId: 's' });
  });
});

describe('start and step: wait nodes and effects', () => {
  const flow = flowOf(
    [
      node('hello', 'send', { text: 'Hello {{contact.name}}', buttons: [{ id: 'yes', title: 'Yes {{contact.name}}' }] }),
      node('wait', 'delay', { ms: 60_000 }),
      node('api', 'http', { url: 'https://example.test/{{contact.plan}}' }),
      node('bye', 'end'),
      node('sorry', 'set', { variable: 'why', value: '{{nodes.hello.error.message}}' }),
    ],
    [
      edge('hello', 'sent', 'wait'),
      edge('hello', 'failed', 'sorry'),
      edge('wait', 'done', 'api'),
      edge('api', 'success', 'bye'),
    ],
  );

  it('should emit a sendMessage effect with seq and nodeId and wait for its outcome', () => {
    const { first } = run(flow);
    expect(first.status).toBe('running');
    expect(first.waiting).toEqual({ nodeId: 'hello', for: 'effect' });
    expect(first.effects).toEqual([
      {
        type: 'sendMessage',
        seq: 1,
        nodeId: 'hello',
        message: { kind: 'buttons', text: 'Hello Ada', buttons: [{ id: 'yes', title: 'Yes Ada' }] },
      },
    ]);
    expect(first.path).toEqual([{ nodeId: 'hello', at: T0 }]);
  });

  it('should route node.completed to the node and follow its output', () => {
    const { compiled, first } = run(flow);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 5 }));
    expect(second.path).toEqual([
      { nodeId: 'hello', output: 'sent', at: T0 + 5 },
      { nodeId: 'wait', at: T0 + 5 },
    ]);
    expect(second.status).toBe('waiting');
    expect(second.waiting).toEqual({ nodeId: 'wait', for: 'timer' });
    expect(second.effects).toEqual([{ type: 'scheduleTimer', seq: 2, nodeId: 'wait', timerId: 'wait:delay:2', dueAt: T0 + 5 + 60_000 }]);
  });

  it('should ignore stale, duplicate and misaddressed outcomes', () => {
    const { compiled, first } = run(flow);
    const stale = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 7, output: 'sent', at: T0 + 1 }));
    expect(stale.ignored).toBe(true);
    expect(stale.snapshot).toBe(first.snapshot);
    expect(stale.effects).toEqual([]);
    expect(stale.status).toBe('running');
    expect(step(compiled, first.snapshot, nodeCompleted({ nodeId: 'wait', seq: 1, output: 'sent', at: T0 + 1 })).ignored).toBe(true);
    expect(step(compiled, first.snapshot, nodeFailed({ nodeId: 'hello', seq: 2, error: { code: 'X', message: 'x' }, at: T0 + 1 })).ignored).toBe(true);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 1 }));
    const duplicate = step(compiled, second.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 2 }));
    expect(duplicate.ignored).toBe(true);
    expect(duplicate.snapshot).toBe(second.snapshot);
  });

  it('should ignore replies to nodes that do not wait for one, and unknown timers and events', () => {
    const { compiled, first } = run(flow);
    expect(step(compiled, first.snapshot, reply('hey')).ignored).toBe(true);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 1 }));
    expect(step(compiled, second.snapshot, timerFired('delay', T0 + 2)).ignored).toBe(true);
    expect(step(compiled, second.snapshot, { type: 'contact.updated', at: T0 } as unknown as FlowEvent).ignored).toBe(true);
  });

  it('should fire timers and emit executeNode effects with the node type and rendered params', () => {
    const { compiled, first } = run(flow);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 1 }));
    const timer = only(second, 'scheduleTimer')[0];
    const third = step(compiled, second.snapshot, timerFired(timer?.timerId ?? '', T0 + 60_001));
    expect(third.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['wait', 'done'],
      ['api', undefined],
    ]);
    expect(third.effects).toEqual([
      { type: 'executeNode', seq: 3, nodeId: 'api', nodeType: 'test.http', typeVersion: 1, params: { url: 'https://example.test/pro' } },
    ]);
    expect(third.status).toBe('running');
    const fourth = step(
      compiled,
      third.snapshot,
      nodeCompleted({ nodeId: 'api', seq: 3, output: 'success', data: { status: 200 }, set: { vars: { order: 'A-1' }, contact: { vip: true } }, at: T0 + 60_002 }),
    );
    expect(fourth.status).toBe('done');
    expect(fourth.vars.order).toBe('A-1');
    expect(fourth.contactChanges).toEqual({ vip: true });
    expect((fourth.snapshot.context as { nodes: Record<string, unknown> }).nodes.api).toEqual({ status: 200 });
  });

  it('should leave by the wired failed output on node.failed the node does not handle', () => {
    const { compiled, first } = run(flow);
    const failed = step(compiled, first.snapshot, nodeFailed({ nodeId: 'hello', seq: 1, error: { code: 'WINDOW', message: 'window closed' }, at: T0 + 1 }));
    expect(failed.status).toBe('done');
    expect(failed.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['hello', 'failed'],
      ['sorry', 'next'],
    ]);
    expect(failed.vars.why).toBe('window closed');
  });

  it('should fail the run when node.failed arrives and failed is not wired', () => {
    const { compiled, first } = run(flow);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'sent', at: T0 + 1 }));
    const third = step(compiled, second.snapshot, timerFired(only(second, 'scheduleTimer')[0]?.timerId ?? '', T0 + 2));
    const failed = step(compiled, third.snapshot, nodeFailed({ nodeId: 'api', seq: 3, error: { code: 'HTTP_500', message: 'server error' }, at: T0 + 3 }));
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({ code: 'HTTP_500', message: 'Node "api" failed: server error', nodeId: 'api' });
  });

  it('should fail the run when a node leaves by an unwired failed output on its own', () => {
    const f = flowOf([node('hello', 'send', { text: 'Hi' })], []);
    const { compiled, first } = run(f);
    const result = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'hello', seq: 1, output: 'failed', at: T0 + 1 }));
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'NODE_FAILED', nodeId: 'hello' });
  });

  it('should number effects with one monotonic seq per run', () => {
    const f = flowOf(
      [node('a', 'send', { text: 'one' }), node('b', 'send', { text: 'two' }), node('c', 'send', { text: 'three' })],
      [edge('a', 'sent', 'b'), edge('b', 'sent', 'c')],
    );
    const { compiled, first } = run(f);
    const second = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'a', seq: 1, output: 'sent', at: T0 }));
    const third = step(compiled, second.snapshot, nodeCompleted({ nodeId: 'b', seq: 2, output: 'sent', at: T0 }));
    expect([first, second, third].map((r) => r.effects.map((e) => e.seq))).toEqual([[1], [2], [3]]);
  });
});

describe('start and step: replies, timeouts and cancellation', () => {
  const flow = flowOf(
    [
      node('ask', 'ask', { question: 'Your email, {{contact.name}}?', variable: 'email' }),
      node('thanks', 'send', { text: 'Thanks, {{vars.email}}' }),
      node('late', 'set', { variable: 'email', value: 'none' }),
    ],
    [edge('ask', 'answered', 'thanks'), edge('ask', 'timeout', 'late')],
    { variables: [{ name: 'email', type: 'string', default: '' }] },
  );

  const asked = () => {
    const { compiled, first } = run(flow);
    const sent = step(compiled, first.snapshot, nodeCompleted({ nodeId: 'ask', seq: 1, output: 'sent', at: T0 + 1 }));
    return { compiled, first, sent };
  };

  it('should be running while the question is sent and waiting for the reply after', () => {
    const { first, sent } = asked();
    expect(first.status).toBe('running');
    expect(first.effects.map((e) => e.type)).toEqual(['sendMessage', 'scheduleTimer']);
    expect(only(first, 'scheduleTimer')[0]).toMatchObject({ seq: 2, timerId: 'ask:timeout:2', dueAt: T0 + 3_600_000 });
    expect(sent.status).toBe('waiting');
    expect(sent.waiting).toEqual({ nodeId: 'ask', for: 'reply' });
    expect(sent.effects).toEqual([]);
    expect(sent.path).toEqual([]);
  });

  it('should route a reply to the waiting node, save it and cancel the pending timeout', () => {
    const { compiled, sent } = asked();
    const answered = step(compiled, sent.snapshot, reply('ada@example.test', T0 + 20));
    expect(answered.vars.email).toBe('ada@example.test');
    expect(answered.effects).toEqual([
      { type: 'cancelTimer', seq: 3, nodeId: 'ask', timerId: 'ask:timeout:2' },
      { type: 'sendMessage', seq: 4, nodeId: 'thanks', message: { kind: 'text', text: 'Thanks, ada@example.test' } },
    ]);
    expect(answered.path.map((p) => [p.nodeId, p.output])).toEqual([
      ['ask', 'answered'],
      ['thanks', undefined],
    ]);
    const data = (answered.snapshot.context as { nodes: Record<string, unknown> }).nodes.ask;
    expect(data).toEqual({ text: 'ada@example.test', pendingSeqs: [], state: { asked: true } });
  });

  it('should deliver a reply that arrives before the send outcome, and pass the node its pending seqs', () => {
    const { compiled, first } = run(flow);
    const answered = step(compiled, first.snapshot, reply('early'));
    expect(answered.vars.email).toBe('early');
    expect((answered.snapshot.context as { nodes: Record<string, { pendingSeqs: number[] }> }).nodes.ask?.pendingSeqs).toEqual([1]);
    const late = step(compiled, answered.snapshot, nodeCompleted({ nodeId: 'ask', seq: 1, output: 'sent', at: T0 + 30 }));
    expect(late.ignored).toBe(true);
  });

  it('should leave by timeout when the timer fires', () => {
    const { compiled, sent } = asked();
    const timedOut = step(compiled, sent.snapshot, timerFired('ask:timeout:2', T0 + 3_600_000));
    expect(timedOut.status).toBe('done');
    expect(timedOut.vars.email).toBe('none');
    expect(timedOut.effects).toEqual([]);
    expect(step(compiled, timedOut.snapshot, reply('too late')).ignored).toBe(true);
  });

  it('should cancel a run, cancelling its pending timers, and ignore every event after', () => {
    const { compiled, sent } = asked();
    const cancelled = step(compiled, sent.snapshot, runCancelled('contact said STOP', T0 + 50));
    expect(cancelled.status).toBe('done');
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.effects).toEqual([{ type: 'cancelTimer', seq: 3, nodeId: 'ask', timerId: 'ask:timeout:2' }]);
    for (const event of [reply('hi'), timerFired('ask:timeout:2', T0 + 60), runCancelled('again', T0 + 70)]) {
      const after = step(compiled, cancelled.snapshot, event);
      expect(after.ignored).toBe(true);
      expect(after.outcome).toBe('cancelled');
    }
  });

  it('should end a run as failed, with the error it is given, on run.aborted, cancelling its timers', () => {
    const { compiled, sent } = asked();
    const error = { code: 'TOO_MANY_STEPS', message: 'the run took 50,000 steps' };
    const aborted = step(compiled, sent.snapshot, runAborted(error, T0 + 50));
    expect(aborted.status).toBe('failed');
    expect(aborted.outcome).toBe('failed');
    expect(aborted.error).toEqual(error);
    expect(aborted.effects).toEqual([{ type: 'cancelTimer', seq: 3, nodeId: 'ask', timerId: 'ask:timeout:2' }]);
    expect(step(compiled, aborted.snapshot, reply('hi')).ignored).toBe(true);
  });

  it('should not let a timer of an earlier visit fire into a later visit of the same node', () => {
    const loop = flowOf([node('ask', 'ask', { question: 'Again?', variable: 'a' })], [edge('ask', 'answered', 'ask')]);
    const { compiled, first } = run(loop);
    const second = step(compiled, first.snapshot, reply('one'));
    const oldTimer = only(first, 'scheduleTimer')[0]?.timerId ?? '';
    const newTimer = only(second, 'scheduleTimer')[0]?.timerId ?? '';
    expect(newTimer).not.toBe(oldTimer);
    expect(only(second, 'cancelTimer').map((e) => e.timerId)).toEqual([oldTimer]);
    expect(step(compiled, second.snapshot, timerFired(oldTimer, T0 + 99)).ignored).toBe(true);
    expect(step(compiled, second.snapshot, timerFired(newTimer, T0 + 99)).status).toBe('done');
  });
});

describe('unconnected failure outputs', () => {
  it('should fail the run with the reason when a node leaves by an unconnected error output', () => {
    const flow = flowOf([node('call', 'http', { url: 'https://example.com' })], []);
    const compiled = compile(flow, catalogue);
    const started = start(compiled, { runId: 'r', at: 0, trigger: {}, contact: {} });
    const seq = started.effects[0]?.seq ?? 0;
    const result = step(compiled, started.snapshot, nodeCompleted({ at: 1, nodeId: 'call', seq, output: 'error', data: { error: { code: 'HTTP_STATUS', message: 'HTTP 503' } } }));
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ code: 'NODE_FAILED', message: 'Node "call" left by its "error" output, which is not connected (HTTP 503)', nodeId: 'call' });
  });
});
