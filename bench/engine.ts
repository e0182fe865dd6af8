/**
 * Engine speed on this machine, each number beside a bare XState baseline measured in the same
 * process:
 *
 * (a) validate + compile of a generated 1,000-node flow (a realistic mix of built-in nodes):
 *     median and p90 over at least 30 runs and 1 s, after warm-up. Baseline: `createMachine` of a
 *     1,000-state chain. Target: median < 50 ms.
 * (b) runs/s of a 10-node pure flow (set_variable / condition / switch chain ending in `end`)
 *     through `start()`, start to end, the flow compiled once. Baseline: `createActor(machine).start()`
 *     of an equivalent 10-state machine (eventless transitions, guards and `assign`), the machine
 *     created once. Target >= 20,000 runs/s.
 *
 * Wall-clock numbers decide PASS/FAIL; each also comes on a CPU-time basis (`process.cpuUsage`),
 * which a busy machine distorts far less, and a warning is printed when the load average exceeds
 * the number of cores.
 *
 *   npx tsx bench/engine.ts [--rounds 3] [--min-ms 1000]
 */
import { cpus, loadavg } from 'node:os';
import { assign, createActor, createMachine } from 'xstate';
import { compile, start, validate, type FlowDefinition, type FlowEdge, type FlowNode, type JsonObject } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  return raw === undefined ? fallback : Number(raw);
};
const ROUNDS = arg('rounds', 3);
const MIN_MS = arg('min-ms', 1_000);

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
/** CPU time (user + system) this process used, in ms: less distorted than wall time on a busy machine. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e3;
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);

const SETTINGS: FlowDefinition['settings'] = {
  channels: ['whatsapp', 'webchat'],
  defaultReplyTimeout: 'PT1H',
  honourInterruptKeywords: true,
  onWaitingRunExpired: 'resume',
};

const builtin = (id: string, type: string, x: number, y: number, params: JsonObject): FlowNode => ({
  id,
  type,
  typeVersion: 1,
  label: id.replace(/_/g, ' '),
  position: { x, y },
  params,
});
const wire = (source: string, sourceOutput: string, target: string): FlowEdge => ({
  id: `${source}-${sourceOutput}-${target}`,
  source,
  sourceOutput,
  target,
});

/**
 * A flow of `count` nodes as a designer would build it: blocks of send text, ask question (its
 * timeout and invalid outputs wired), condition, set variable and switch, chained left to right,
 * ending in one end node. `salt` changes every template's text (to defeat template caches).
 */
function largeFlow(count: number, salt = ''): FlowDefinition {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  const variables: FlowDefinition['variables'] = [];
  const blocks = Math.floor((count - 2) / 5);
  nodes.push(builtin('give_up', 'send_text', 0, 400, { text: `Talk soon!${salt}` }));
  let previous: { id: string; output: string } | undefined;
  const link = (id: string, output: string): void => {
    if (previous) edges.push(wire(previous.id, previous.output, id));
    previous = { id, output };
  };
  for (let b = 0; b < blocks; b++) {
    const x = b * 1_500;
    const answer = `answer_${b}`;
    const score = `score_${b}`;
    variables.push({ name: answer, type: 'number', default: 0 }, { name: score, type: 'string', default: '' });
    const send = `send_${b}`;
    const ask = `ask_${b}`;
    const check = `check_${b}`;
    const set = `set_${b}`;
    const route = `route_${b}`;
    nodes.push(builtin(send, 'send_text', x, 0, { text: `Step ${b}${salt}: hi {{#if contact.name}}{{contact.name}}{{/if}}, your last score was {{vars.${score}}}` }));
    link(send, 'sent');
    nodes.push(
      builtin(ask, 'ask_question', x + 300, 0, {
        question: `Question ${b}${salt}: how many items?`,
        answerType: 'number',
        saveTo: { variable: answer },
        retries: 1,
        retryMessage: `Please answer with a number${salt}`,
      }),
    );
    link(ask, 'answered');
    edges.push(wire(ask, 'timeout', 'give_up'), wire(ask, 'invalid', 'give_up'));
    nodes.push(builtin(check, 'condition', x + 600, 0, { rules: { all: [{ field: `vars.${answer}`, operator: 'gte', value: b }, { field: 'contact.name', operator: 'is_set' }] } }));
    link(check, 'true');
    nodes.push(builtin(set, 'set_variable', x + 900, 0, { assignments: [{ variable: score, value: `{{vars.${answer}}} points${salt}` }] }));
    link(set, 'next');
    edges.push(wire(check, 'false', set));
    nodes.push(
      builtin(route, 'switch', x + 1_200, 0, {
        cases: [
          { id: 'many', rule: { field: `vars.${answer}`, operator: 'gt', value: 100 } },
          { id: 'some', rule: { field: `vars.${answer}`, operator: 'gt', value: 10 } },
        ],
      }),
    );
    link(route, 'default');
    // The other cases rejoin the chain at the next block.
    const next = `send_${b + 1}`;
    if (b + 1 < blocks) edges.push(wire(route, 'many', next), wire(route, 'some', next));
    else edges.push(wire(route, 'many', 'finish'), wire(route, 'some', 'finish'));
  }
  for (let i = nodes.length; i < count - 1; i++) {
    const id = `pad_${i}`;
    nodes.push(builtin(id, 'set_variable', blocks * 1_500 + (i - nodes.length) * 300, 0, { assignments: [{ variable: 'padding', value: i }] }));
    link(id, 'next');
  }
  if (nodes.length < count) variables.push({ name: 'padding', type: 'number', default: 0 });
  nodes.push(builtin('finish', 'end', (blocks + 2) * 1_500, 0, {}));
  link('finish', '');
  edges.push(wire('give_up', 'sent', 'finish'));
  return {
    id: `bench-${count}`,
    name: `Benchmark flow of ${count} nodes`,
    triggers: [{ id: 'kw', type: 'keyword', params: { keywords: ['bench'], match: 'exact' } }],
    nodes,
    edges,
    variables,
    settings: SETTINGS,
  };
}

/** A 10-node pure flow: condition / set_variable / switch, nine pure nodes then `end`. */
function pureFlow(): FlowDefinition {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  const kinds = ['condition', 'set_variable', 'switch'] as const;
  for (let i = 0; i < 9; i++) {
    const id = `n${i}`;
    const kind = kinds[i % 3] as (typeof kinds)[number];
    const params: JsonObject =
      kind === 'condition'
        ? { rules: { field: 'vars.plan', operator: 'equals', value: 'pro' } }
        : kind === 'set_variable'
          ? { assignments: [{ variable: `v${i}`, value: i }] }
          : { cases: [{ id: 'big', rule: { field: 'vars.count', operator: 'gte', value: 10 } }] };
    nodes.push(builtin(id, kind, i * 300, 0, params));
    if (i > 0) {
      const prev = kinds[(i - 1) % 3];
      edges.push(wire(`n${i - 1}`, prev === 'condition' ? 'true' : prev === 'set_variable' ? 'next' : 'big', id));
    }
  }
  nodes.push(builtin('n9', 'end', 2_700, 0, {}));
  edges.push(wire('n8', 'big', 'n9'));
  const variables: FlowDefinition['variables'] = [
    { name: 'plan', type: 'string', default: 'pro' },
    { name: 'count', type: 'number', default: 12 },
    ...[1, 4, 7].map((i) => ({ name: `v${i}`, type: 'number' as const, default: 0 })),
  ];
  return { id: 'bench-pure-10', name: 'Ten pure nodes', triggers: [{ id: 'api', type: 'api', params: {} }], nodes, edges, variables, settings: SETTINGS };
}

/** The bare XState equivalent of `pureFlow`: ten states, eventless transitions, guards and assign. */
function bareMachine() {
  const states: Record<string, object> = {};
  for (let i = 0; i < 9; i++) {
    const target = `s${i + 1}`;
    const kind = i % 3;
    states[`s${i}`] = {
      always:
        kind === 0
          ? [{ guard: ({ context }: { context: Ctx }) => context.plan === 'pro', target }, { target: 's9' }]
          : kind === 1
            ? { target, actions: assign(({ context }: { context: Ctx }) => ({ vars: { ...context.vars, [`v${i}`]: i } })) }
            : [{ guard: ({ context }: { context: Ctx }) => context.count >= 10, target }, { target: 's9' }],
    };
  }
  states.s9 = { type: 'final' };
  return createMachine({
    id: 'bare',
    context: ({ input }: { input: { runId: string } }) => ({ runId: input.runId, plan: 'pro', count: 12, vars: {} }),
    initial: 's0',
    states,
  } as unknown as Parameters<typeof createMachine>[0]);
}
interface Ctx {
  runId: string;
  plan: string;
  count: number;
  vars: Record<string, number>;
}

/** The bare XState equivalent of `largeFlow`'s size: a chain of `count` states. */
function bareLargeConfig(count: number): Parameters<typeof createMachine>[0] {
  const states: Record<string, object> = {};
  for (let i = 0; i < count - 1; i++) states[`s${i}`] = { on: { NEXT: `s${i + 1}`, TIMEOUT: `s${count - 1}` } };
  states[`s${count - 1}`] = { type: 'final' };
  return { id: 'bare-large', initial: 's0', states } as unknown as Parameters<typeof createMachine>[0];
}

/** Wall and CPU milliseconds of each call, both sorted ascending. */
interface Latencies {
  wall: number[];
  cpu: number[];
}

/** Times `fn` at least `minRuns` times and for at least `minMs`, after `warmup` calls. */
function latencies(fn: () => void, warmup: number, minRuns: number, minMs: number): Latencies {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  const t0 = nowMs();
  while (wall.length < minRuns || nowMs() - t0 < minMs) {
    const c = cpuMs();
    const s = nowMs();
    fn();
    wall.push(nowMs() - s);
    cpu.push(cpuMs() - c);
  }
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

/** Calls per second of wall time and of CPU time. */
interface Rate {
  wall: number;
  cpu: number;
}

/** Calls `fn(i)` in batches for at least `minMs` of wall time. */
function throughput(fn: (i: number) => void, minMs: number): Rate {
  let calls = 0;
  const c0 = cpuMs();
  const t0 = nowMs();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 1_000; i++) fn(calls + i);
    calls += 1_000;
    elapsed = nowMs() - t0;
  }
  return { wall: (calls / elapsed) * 1_000, cpu: (calls / (cpuMs() - c0)) * 1_000 };
}

function benchCompile(): void {
  const flow = largeFlow(1_000);
  const problems = validate(flow, builtinCatalogue);
  if (flow.nodes.length !== 1_000 || problems.length > 0) {
    throw new Error(`the generated flow is not a clean 1,000-node flow: ${flow.nodes.length} nodes, ${JSON.stringify(problems.slice(0, 3))}`);
  }
  // A fresh copy each time, as the API receives it: nothing can be cached on the document itself.
  const copies = Array.from({ length: 64 }, () => structuredClone(flow));
  let k = 0;
  const validateMs: number[] = [];
  const engine = latencies(
    () => {
      const copy = copies[k++ % copies.length] as FlowDefinition;
      const t0 = nowMs();
      if (validate(copy, builtinCatalogue).length > 0) throw new Error('diagnostics');
      validateMs.push(nowMs() - t0);
      compile(copy, builtinCatalogue);
    },
    10,
    30,
    MIN_MS,
  );
  // Every template text new: the worst case for the template caches.
  let salt = 0;
  const cold = latencies(
    () => {
      const copy = largeFlow(1_000, ` #${++salt}`);
      validate(copy, builtinCatalogue);
      compile(copy, builtinCatalogue);
    },
    3,
    30,
    MIN_MS,
  );
  const config = bareLargeConfig(1_000);
  const bare = latencies(() => createMachine(config), 10, 30, MIN_MS);
  const med = percentile(engine.wall, 50);
  const bareMed = percentile(bare.wall, 50);
  const cpuMed = percentile(engine.cpu, 50);
  console.log(
    `engine: validate+compile 1000 nodes: median ${fmt(med, 1)} ms (p90 ${fmt(percentile(engine.wall, 90), 1)} ms, ${engine.wall.length} runs; ` +
      `validate ~${fmt(median(validateMs.slice(10)), 1)} ms of it); bare xstate createMachine 1000 states: median ${fmt(bareMed, 1)} ms; ` +
      `cost ratio ${fmt(med / bareMed, 1)}x; target <50 ms ${med < 50 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `engine:   cpu-time basis: validate+compile median ${fmt(cpuMed, 1)} ms (p90 ${fmt(percentile(engine.cpu, 90), 1)} ms); ` +
      `bare createMachine ${fmt(percentile(bare.cpu, 50), 1)} ms; target <50 ms ${cpuMed < 50 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `engine:   every template text new (cold template caches, includes generating the flow): median ${fmt(percentile(cold.wall, 50), 1)} ms ` +
      `(p90 ${fmt(percentile(cold.wall, 90), 1)} ms; cpu-time median ${fmt(percentile(cold.cpu, 50), 1)} ms)`,
  );
}

function benchPureRuns(): void {
  const compiled = compile(pureFlow(), builtinCatalogue);
  const probe = start(compiled, { runId: 'probe', at: 0, trigger: {}, contact: {} });
  if (probe.status !== 'done' || probe.path.length !== 10) {
    throw new Error(`the pure flow did not run to its end: ${probe.status}, ${probe.path.length} nodes`);
  }
  const machine = bareMachine();
  const bareProbe = createActor(machine, { input: { runId: 'probe' } }).start().getSnapshot();
  if (bareProbe.status !== 'done' || bareProbe.value !== 's9') throw new Error('the bare machine did not reach its final state');

  const at = 1_700_000_000_000;
  const runEngine = (i: number): void => {
    if (start(compiled, { runId: `run-${i}`, at, trigger: {}, contact: { name: 'Ada' } }).status !== 'done') throw new Error('not done');
  };
  const runBare = (i: number): void => {
    if (createActor(machine, { input: { runId: `run-${i}` } }).start().getSnapshot().status !== 'done') throw new Error('not done');
  };
  throughput(runEngine, 300);
  throughput(runBare, 300);
  const engineRounds: Rate[] = [];
  const bareRounds: Rate[] = [];
  // Interleaved, so drift (thermal, GC, neighbours) hits both alike.
  for (let r = 0; r < ROUNDS; r++) {
    engineRounds.push(throughput(runEngine, MIN_MS));
    bareRounds.push(throughput(runBare, MIN_MS));
  }
  const engine = median(engineRounds.map((r) => r.wall));
  const bare = median(bareRounds.map((r) => r.wall));
  const engineCpu = median(engineRounds.map((r) => r.cpu));
  const bareCpu = median(bareRounds.map((r) => r.cpu));
  console.log(
    `engine: 10-node pure flow: ${fmt(engine)} runs/s; bare xstate actor (machine built once, createActor().start() per run): ${fmt(bare)} runs/s; ratio ${fmt(engine / bare, 2)}x; ` +
      `target >=20,000 ${engine >= 20_000 ? 'PASS' : 'FAIL'} (median of ${ROUNDS} rounds of >=${fmt(MIN_MS / 1000, 1)} s; ` +
      `engine rounds ${engineRounds.map((r) => fmt(r.wall)).join(', ')})`,
  );
  console.log(
    `engine:   cpu-time basis: ${fmt(engineCpu)} runs/s; bare xstate actor ${fmt(bareCpu)} runs/s; ratio ${fmt(engineCpu / bareCpu, 2)}x; ` +
      `target >=20,000 ${engineCpu >= 20_000 ? 'PASS' : 'FAIL'}`,
  );
}

const load = loadavg()[0] ?? 0;
const cores = cpus().length;
console.log(`engine bench: node ${process.version}, ${process.platform}/${process.arch}, ${cores} cores, load ${load.toFixed(1)}`);
if (load > cores) {
  console.log(`engine bench: WARNING the machine is busy (load ${load.toFixed(1)} on ${cores} cores): wall-clock numbers are inflated; the cpu-time lines are closer to an idle machine`);
}
benchCompile();
benchPureRuns();
