import { compile, start, FlowCompileError, DEFAULT_REPLY_TIMEOUT_MS } from '../src/index.js';
import type { Effect } from '../src/index.js';
import { catalogue } from './fixtures/nodes.js';
import { edge, flowOf, node, pureChain } from './fixtures/flows.js';

const input = { runId: 'run-1', at: 1_000, trigger: {}, contact: {} };

const compileError = (fn: () => unknown): FlowCompileError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlowCompileError) return err;
    throw err;
  }
  throw new Error('compile did not throw');
};

describe('compile', () => {
  it('should build one state per node plus the final states', () => {
    const flow = flowOf(
      [node('ask', 'ask', { question: 'Name?', variable: 'name' }), node('check', 'condition', { value: 'a', equals: 'a' }), node('bye', 'end')],
      [edge('ask', 'answered', 'check'), edge('check', 'true', 'bye')],
    );
    const compiled = compile(flow, catalogue);
    expect(Object.keys(compiled.machine.root.states).sort()).toEqual(['$cancelled', '$done', '$failed', 'n:ask', 'n:bye', 'n:check']);
    expect(compiled.entryNodeId).toBe('ask');
    expect(compiled.nodes.get('check')?.definition.manifest.type).toBe('test.condition');
  });

  it('should escape node ids that XState would read as paths', () => {
    const flow = flowOf([node('a.b#c', 'set', { variable: 'x', value: '1' }), node('end.1', 'end')], [edge('a.b#c', 'next', 'end.1')]);
    const result = start(compile(flow, catalogue), input);
    expect(result.status).toBe('done');
    expect(result.path.map((p) => p.nodeId)).toEqual(['a.b#c', 'end.1']);
  });

  it('should start at the first node no edge targets', () => {
    const flow = flowOf(
      [node('menu', 'set', { variable: 'x', value: '1' }), node('welcome', 'set', { variable: 'y', value: '2' }), node('bye', 'end')],
      [edge('welcome', 'next', 'menu'), edge('menu', 'next', 'bye')],
    );
    expect(compile(flow, catalogue).entryNodeId).toBe('welcome');
  });

  it('should start at options.startNodeId when given, and at nodes[0] when every node is targeted', () => {
    const loop = flowOf(
      [node('a', 'delay', { ms: 10 }), node('b', 'delay', { ms: 10 })],
      [edge('a', 'done', 'b'), edge('b', 'done', 'a')],
    );
    expect(compile(loop, catalogue).entryNodeId).toBe('a');
    const compiled = compile(loop, catalogue, { startNodeId: 'b' });
    expect(compiled.entryNodeId).toBe('b');
    expect(start(compiled, input).waiting).toEqual({ nodeId: 'b', for: 'timer' });
  });

  it('should throw a FlowCompileError listing every structural problem', () => {
    const flow = flowOf(
      [
        node('a', 'condition', { value: 'x', equals: 'x' }),
        { ...node('b', 'condition'), typeVersion: 9 },
        node('c', 'nope'),
        node('j', 'jump', { target: 'ghost' }),
        node('a', 'end'),
      ],
      [edge('a', 'true', 'missing'), edge('ghost-source', 'next', 'a')],
    );
    const err = compileError(() => compile(flow, catalogue));
    expect(err.code).toBe('FLOW_COMPILE_ERROR');
    expect(err).toBeInstanceOf(Error);
    expect(err.problems.map((p) => p.code).sort()).toEqual([
      'DUPLICATE_NODE_ID',
      'EDGE_SOURCE_MISSING',
      'EDGE_TARGET_MISSING',
      'JUMP_TARGET_MISSING',
      'UNKNOWN_NODE_TYPE',
      'UNKNOWN_NODE_TYPE',
    ]);
    expect(err.message).toContain('"b" has type "test.condition" version 9');
    expect(err.problems.find((p) => p.code === 'JUMP_TARGET_MISSING')?.nodeId).toBe('j');
  });

  it('should refuse an empty flow and an unknown start node', () => {
    expect(compileError(() => compile(flowOf([], []), catalogue)).problems[0]?.code).toBe('NO_NODES');
    const flow = flowOf([node('a', 'end')], []);
    expect(compileError(() => compile(flow, catalogue, { startNodeId: 'zzz' })).problems[0]?.code).toBe('START_NODE_MISSING');
  });

  it('should give nodes the flow default reply timeout, parsed from its ISO-8601 duration', () => {
    const dueAt = (defaultReplyTimeout: string): number | undefined => {
      const flow = flowOf([node('ask', 'ask', { question: 'Q', variable: 'q' })], []);
      flow.settings.defaultReplyTimeout = defaultReplyTimeout;
      const timer = start(compile(flow, catalogue), input).effects.find((e): e is Extract<Effect, { type: 'scheduleTimer' }> => e.type === 'scheduleTimer');
      return timer?.dueAt;
    };
    expect(dueAt('PT30M')).toBe(1_000 + 30 * 60_000);
    expect(dueAt('P1D')).toBe(1_000 + 86_400_000);
    expect(dueAt('PT1H30M')).toBe(1_000 + 90 * 60_000);
    expect(dueAt('P1W')).toBe(1_000 + 7 * 86_400_000);
    expect(dueAt('PT0.5S')).toBe(1_500);
    expect(dueAt('P1M')).toBe(1_000 + DEFAULT_REPLY_TIMEOUT_MS);
    expect(dueAt('soon')).toBe(1_000 + DEFAULT_REPLY_TIMEOUT_MS);
    expect(dueAt('PT')).toBe(1_000 + DEFAULT_REPLY_TIMEOUT_MS);
  });

  it('should compile a 1,000-node flow and run it to the end', () => {
    const compiled = compile(pureChain(1_000), catalogue);
    expect(compiled.nodes.size).toBe(1_000);
    const result = start(compiled, input);
    expect(result.status).toBe('done');
    expect(result.path).toHaveLength(1_000);
  });
});
