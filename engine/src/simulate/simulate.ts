import type { JsonObject, JsonValue } from '../json.js';
import type { Catalogue } from '../catalogue/types.js';
import type { FlowDefinition } from '../flow/types.js';
import type { Effect } from '../effects.js';
import type { FlowEvent } from '../events.js';
import { messageReceived, nodeCompleted, nodeFailed, runCancelled, timerFired } from '../events.js';
import type { InboundMessage, OutboundMessage } from '../message.js';
import type { PathStep, RunOutcome, RunStatus, RunWaiting, StepResult } from '../run.js';
import { compile } from '../compile/compile.js';
import type { CompiledFlow } from '../compile/compiled-flow.js';
import { start, step } from '../step.js';
import { parseIsoDuration } from '../internal/iso-duration.js';
import { checkScenario } from './scenario.js';
import type { NodeMock, Scenario, ScenarioExpectation, ScenarioStep } from './scenario.js';

/** What happened at one step of a scenario (step 0 is the start of the run). */
export interface SimulationStepLog {
  step: number;
  action: 'start' | 'send' | 'advance' | 'expect' | 'cancel';
  /** The virtual clock after the step, ISO-8601. */
  at: string;
  /** A readable summary, e.g. `contact sends "yes"` or `clock +PT1H, 1 timer fired`. */
  note: string;
  /** Node ids entered or left during the step. */
  path: string[];
  /** Texts of the messages sent during the step. */
  sent: string[];
  status: RunStatus;
  /** True when the run ignored the step's event (it was waiting for something else). */
  ignored?: boolean;
}

/** The result of running a scenario: whether it passed, why not, and what the run did. */
export interface SimulationReport {
  name: string;
  passed: boolean;
  /** Readable reasons the scenario failed; empty when it passed. */
  failures: string[];
  /** Node ids the run passed through, in order. */
  path: string[];
  /** The same with outputs and times. */
  trace: PathStep[];
  sent: OutboundMessage[];
  vars: Record<string, JsonValue>;
  contact: JsonObject;
  /** `not_started` when the flow could not be compiled or the scenario is malformed. */
  status: RunStatus | 'not_started';
  outcome?: RunOutcome;
  error?: { code: string; message: string; nodeId?: string };
  waiting?: RunWaiting;
  steps: SimulationStepLog[];
}

const DEFAULT_START = '2024-01-01T00:00:00.000Z';
/** Effect outcomes and timers one scenario step may cause before it is declared a runaway loop. */
const MAX_EVENTS_PER_STEP = 10_000;

/** The scenario cannot go on (an action without a mock, a runaway loop); the reason is a failure. */
class Halt extends Error {}

/**
 * Runs a flow against a scripted conversation: sends the contact's messages, completes the flow's
 * messages (output `sent` unless mocked) and actions (from `scenario.mocks`), fires timers as a
 * virtual clock advances, and checks the expectations. Never throws: a bad flow or scenario is
 * reported in `failures`.
 *
 * Pure: no I/O, no real clock; the same inputs always give the same report.
 *
 * @example
 * const report = simulate(flow, catalogue, {
 *   name: 'happy path',
 *   contact: { name: 'Ada' },
 *   steps: [{ send: 'yes' }],
 *   expect: { path: ['ask', 'thanks'], sent: ['Shall we?', 'Great, Ada!'] },
 * });
 * if (!report.passed) console.log(report.failures.join('\n'));
 */
export function simulate(flow: FlowDefinition, catalogue: Catalogue, scenario: Scenario): SimulationReport {
  const name = typeof (scenario as { name?: unknown } | null)?.name === 'string' ? scenario.name : '(unnamed scenario)';
  const report: SimulationReport = { name, passed: false, failures: [], path: [], trace: [], sent: [], vars: {}, contact: {}, status: 'not_started', steps: [] };
  const problems = checkScenario(scenario);
  if (problems.length > 0) {
    report.failures.push(...problems.map((p) => `scenario: ${p}`));
    return report;
  }
  let compiled: CompiledFlow;
  try {
    compiled = compile(flow, catalogue);
  } catch (err) {
    report.failures.push(`the flow cannot be compiled: ${err instanceof Error ? err.message : String(err)}`);
    return report;
  }
  try {
    new Simulation(compiled, scenario, report).run();
  } catch (err) {
    if (!(err instanceof Halt)) report.failures.push(`the simulation stopped on an unexpected error: ${err instanceof Error ? err.message : String(err)}`);
  }
  report.passed = report.failures.length === 0;
  return report;
}

/**
 * `simulate` for a scenario read from JSON (or any unknown value): checks its shape first.
 *
 * Pure.
 */
export function runScenario(flow: FlowDefinition, catalogue: Catalogue, scenario: unknown): SimulationReport {
  return simulate(flow, catalogue, scenario as Scenario);
}

interface Timer {
  id: string;
  dueAt: number;
  order: number;
}

class Simulation {
  private clock: number;
  private result: StepResult | undefined;
  private readonly timers = new Map<string, Timer>();
  private timerOrder = 0;
  private readonly mockCalls = new Map<string, number>();
  private inbound = 0;
  private stepPath: string[] = [];
  private stepSent: string[] = [];
  private stepEvents = 0;
  private anyIgnored = false;
  private readonly expectsFailure: boolean;

  constructor(
    private readonly compiled: CompiledFlow,
    private readonly scenario: Scenario,
    private readonly report: SimulationReport,
  ) {
    this.clock = Date.parse(scenario.startAt ?? DEFAULT_START);
    const final = scenario.expect;
    this.expectsFailure = final?.status === 'failed' || final?.outcome === 'failed' || final?.error !== undefined;
  }

  run(): void {
    const { scenario } = this;
    this.begin();
    this.logged(0, 'start', () => {
      this.absorb(
        start(this.compiled, {
          runId: scenario.runId ?? 'simulation',
          at: this.clock,
          trigger: scenario.trigger ?? {},
          contact: scenario.contact ?? {},
          ...(scenario.vars ? { vars: scenario.vars } : {}),
        }),
      );
      this.settle();
      return 'the run starts';
    });
    (scenario.steps ?? []).forEach((s, i) => this.runStep(s, i + 1));
    if (scenario.expect) this.check(scenario.expect, 'at the end');
    const result = this.result;
    if (result?.status === 'failed' && !this.expectsFailure) {
      this.report.failures.push(`the run failed: ${result.error?.message ?? 'no reason given'}${result.error ? ` (${result.error.code})` : ''}`);
    }
  }

  private runStep(s: ScenarioStep, index: number): void {
    this.begin();
    if ('send' in s) {
      const body = typeof s.send === 'string' ? { text: s.send } : s.send;
      this.logged(index, 'send', () => {
        const message: InboundMessage = {
          id: `sim-${++this.inbound}`,
          channel: this.scenario.channel ?? this.compiled.flow.settings?.channels?.[0] ?? 'simulator',
          from: typeof this.scenario.contact?.id === 'string' ? this.scenario.contact.id : 'contact',
          sentAt: this.clock,
          ...(body.text !== undefined ? { text: body.text } : {}),
          ...(body.replyTo !== undefined ? { replyTo: body.replyTo } : {}),
        };
        this.deliver(messageReceived(message, this.clock));
        const what = body.replyTo !== undefined ? `presses "${body.replyTo}"${body.text ? ` ("${body.text}")` : ''}` : `sends "${body.text ?? ''}"`;
        return `contact ${what}${this.anyIgnored ? ' (ignored: the run was not waiting for a reply)' : ''}`;
      });
    } else if ('advance' in s) {
      this.logged(index, 'advance', () => {
        const until = this.clock + (parseIsoDuration(s.advance) ?? 0);
        let fired = 0;
        for (let timer = this.nextDue(until); timer; timer = this.nextDue(until)) {
          this.timers.delete(timer.id);
          this.clock = timer.dueAt;
          fired++;
          this.deliver(timerFired(timer.id, this.clock));
        }
        this.clock = Math.max(this.clock, until);
        return `clock +${s.advance}, ${fired} ${plural(fired, 'timer')} fired`;
      });
    } else if ('cancel' in s) {
      this.logged(index, 'cancel', () => {
        this.deliver(runCancelled(s.cancel, this.clock));
        return `the run is cancelled: ${s.cancel}`;
      });
    } else {
      this.logged(index, 'expect', () => {
        const before = this.report.failures.length;
        this.check(s.expect, `after step ${index}`);
        const failed = this.report.failures.length - before;
        return failed === 0 ? 'expectations met' : `${failed} ${plural(failed, 'expectation')} not met`;
      });
    }
  }

  /** Runs a step and logs it, also when it halts the simulation. */
  private logged(index: number, action: SimulationStepLog['action'], fn: () => string): void {
    let note = '';
    try {
      note = fn();
    } catch (err) {
      note = err instanceof Halt ? `the simulation stopped: ${err.message}` : 'the simulation stopped on an unexpected error';
      throw err;
    } finally {
      this.log(index, action, note);
    }
  }

  private begin(): void {
    this.stepPath = [];
    this.stepSent = [];
    this.stepEvents = 0;
    this.anyIgnored = false;
  }

  private deliver(event: FlowEvent): void {
    if (!this.result) return;
    if (++this.stepEvents > MAX_EVENTS_PER_STEP) {
      this.halt(`more than ${MAX_EVENTS_PER_STEP} events in one step: the flow seems to loop through messages or actions forever`);
    }
    const next = step(this.compiled, this.result.snapshot, event);
    if (next.ignored) {
      this.anyIgnored = true;
      this.result = next;
      return;
    }
    this.absorb(next);
    this.settle();
  }

  /** Takes in a step result: its path, and the timers it schedules or cancels. */
  private absorb(result: StepResult): void {
    this.result = result;
    const { trace, path } = this.report;
    for (const entry of result.path) {
      const last = trace[trace.length - 1];
      // A wait node shows once: entered in one step, left (with its output) in a later one.
      if (last && last.nodeId === entry.nodeId && last.output === undefined && entry.output !== undefined) {
        last.output = entry.output;
      } else {
        trace.push({ ...entry });
        path.push(entry.nodeId);
        this.stepPath.push(entry.nodeId);
      }
    }
    for (const effect of result.effects) {
      if (effect.type === 'scheduleTimer') this.timers.set(effect.timerId, { id: effect.timerId, dueAt: effect.dueAt, order: this.timerOrder++ });
      else if (effect.type === 'cancelTimer') this.timers.delete(effect.timerId);
    }
    this.sync();
  }

  /** Completes the messages and actions of the latest result, feeding each outcome back, until none is left. */
  private settle(): void {
    const queue: Effect[] = [];
    const collect = (): void => {
      for (const effect of this.result?.effects ?? []) {
        if (effect.type === 'sendMessage' || effect.type === 'executeNode') queue.push(effect);
      }
    };
    collect();
    while (queue.length > 0) {
      const effect = queue.shift() as Extract<Effect, { type: 'sendMessage' | 'executeNode' }>;
      if (effect.type === 'sendMessage') {
        this.report.sent.push(effect.message);
        this.stepSent.push(messageText(effect.message));
      }
      const mock = this.mockFor(effect);
      const event = 'error' in mock
        ? nodeFailed({ nodeId: effect.nodeId, seq: effect.seq, error: mock.error, at: this.clock })
        : nodeCompleted({
            nodeId: effect.nodeId,
            seq: effect.seq,
            output: mock.output,
            at: this.clock,
            ...(mock.data ? { data: mock.data } : {}),
            ...(mock.set ? { set: mock.set } : {}),
          });
      if (!this.result) return;
      if (++this.stepEvents > MAX_EVENTS_PER_STEP) {
        this.halt(`more than ${MAX_EVENTS_PER_STEP} events in one step: the flow seems to loop through messages or actions forever`);
      }
      const next = step(this.compiled, this.result.snapshot, event);
      if (next.ignored) continue;
      this.absorb(next);
      collect();
    }
  }

  private mockFor(effect: Extract<Effect, { type: 'sendMessage' | 'executeNode' }>): NodeMock {
    const mocks = this.scenario.mocks?.[effect.nodeId];
    if (mocks === undefined) {
      if (effect.type === 'sendMessage') return { output: 'sent' };
      this.halt(
        `node "${effect.nodeId}" (${effect.nodeType}) ran an action but the scenario has no mock for it: add "mocks": { "${effect.nodeId}": { "output": "..." } }`,
      );
    }
    if (!Array.isArray(mocks)) return mocks;
    const call = this.mockCalls.get(effect.nodeId) ?? 0;
    this.mockCalls.set(effect.nodeId, call + 1);
    const mock = mocks[call];
    if (!mock) {
      this.halt(`node "${effect.nodeId}" was called ${call + 1} times but mocks.${effect.nodeId} lists only ${mocks.length} ${mocks.length === 1 ? 'outcome' : 'outcomes'}`);
    }
    return mock;
  }

  private halt(reason: string): never {
    this.report.failures.push(reason);
    throw new Halt(reason);
  }

  private nextDue(until: number): Timer | undefined {
    let next: Timer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.dueAt > until) continue;
      if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.order < next.order)) next = timer;
    }
    return next;
  }

  private sync(): void {
    const result = this.result;
    if (!result) return;
    const report = this.report;
    report.status = result.status;
    report.vars = result.vars;
    report.contact = result.contact;
    if (result.outcome) report.outcome = result.outcome;
    else delete report.outcome;
    if (result.error) report.error = result.error;
    else delete report.error;
    if (result.waiting) report.waiting = result.waiting;
    else delete report.waiting;
  }

  private log(index: number, action: SimulationStepLog['action'], note: string): void {
    const entry: SimulationStepLog = {
      step: index,
      action,
      at: new Date(this.clock).toISOString(),
      note,
      path: this.stepPath,
      sent: this.stepSent,
      status: this.result?.status ?? 'running',
    };
    if (this.anyIgnored && this.stepPath.length === 0) entry.ignored = true;
    this.report.steps.push(entry);
  }

  private check(expect: ScenarioExpectation, when: string): void {
    const failures = this.report.failures;
    const report = this.report;
    const fail = (what: string): void => {
      failures.push(`${when}: ${what}`);
    };
    if (expect.path && !sameJson(expect.path, report.path)) {
      fail(`path: expected ${list(expect.path)} but the run went ${list(report.path)}`);
    }
    if (expect.sent) {
      const sent = report.sent;
      if (expect.sent.length !== sent.length) {
        fail(`sent: expected ${expect.sent.length} ${plural(expect.sent.length, 'message')} but ${sent.length} ${sent.length === 1 ? 'was' : 'were'} sent${sent.length ? `: ${sent.map((m) => JSON.stringify(messageText(m))).join(', ')}` : ''}`);
      }
      expect.sent.forEach((wanted, i) => {
        const actual = sent[i];
        if (!actual) return;
        if (typeof wanted === 'string') {
          if (messageText(actual) !== wanted) fail(`sent[${i}]: expected ${JSON.stringify(wanted)} but was ${JSON.stringify(messageText(actual))}`);
        } else if (!matches(wanted as JsonValue, actual as unknown as JsonValue)) {
          fail(`sent[${i}]: expected a message like ${JSON.stringify(wanted)} but was ${JSON.stringify(actual)}`);
        }
      });
    }
    for (const [scope, expected, actual] of [
      ['vars', expect.vars, report.vars],
      ['contact', expect.contact, report.contact],
    ] as const) {
      for (const [key, value] of Object.entries(expected ?? {})) {
        const has = Object.prototype.hasOwnProperty.call(actual, key);
        if (!has) fail(`${scope}.${key}: expected ${JSON.stringify(value)} but it is not set`);
        else if (!sameJson(value, actual[key] as JsonValue)) fail(`${scope}.${key}: expected ${JSON.stringify(value)} but was ${JSON.stringify(actual[key])}`);
      }
    }
    if (expect.status && expect.status !== report.status) fail(`status: expected ${expect.status} but was ${describeStatus(report)}`);
    if (expect.outcome && expect.outcome !== report.outcome) fail(`outcome: expected ${expect.outcome} but was ${report.outcome ?? `none (the run is ${describeStatus(report)})`}`);
    if (expect.error) {
      const error = report.error;
      if (!error) fail(`error: expected ${JSON.stringify(expect.error)} but the run has no error`);
      else {
        if (expect.error.code !== undefined && expect.error.code !== error.code) fail(`error.code: expected ${expect.error.code} but was ${error.code} (${error.message})`);
        if (expect.error.nodeId !== undefined && expect.error.nodeId !== error.nodeId) fail(`error.nodeId: expected ${expect.error.nodeId} but was ${error.nodeId ?? 'none'}`);
      }
    }
    if (expect.waiting) {
      const waiting = report.waiting;
      const wanted = expect.waiting;
      if (!waiting || (wanted.nodeId !== undefined && wanted.nodeId !== waiting.nodeId) || (wanted.for !== undefined && wanted.for !== waiting.for)) {
        fail(`waiting: expected ${JSON.stringify(wanted)} but the run ${waiting ? `waits for ${waiting.for} at node "${waiting.nodeId}"` : `is ${report.status}`}`);
      }
    }
  }
}

function describeStatus(report: SimulationReport): string {
  if (report.waiting) return `${report.status} (for ${report.waiting.for} at node "${report.waiting.nodeId}")`;
  if (report.error) return `${report.status} (${report.error.code}: ${report.error.message})`;
  return report.status;
}

/** The text of a message as a scenario names it: its text, a media caption or URL, a template name. */
export function messageText(message: OutboundMessage): string {
  switch (message.kind) {
    case 'text':
    case 'buttons':
    case 'list':
      return message.text;
    case 'media':
      return message.caption ?? message.url;
    case 'template':
      return `template:${message.name}`;
    case 'location':
      return message.name ?? `${message.latitude},${message.longitude}`;
  }
}

function matches(expected: JsonValue, actual: JsonValue | undefined): boolean {
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((item, i) => matches(item, actual[i]));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([key, value]) => matches(value, actual[key]));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
  }
  return value;
}

const list = (ids: string[]): string => (ids.length ? ids.join(' > ') : '(nothing)');
const plural = (n: number, word: string): string => (n === 1 ? word : `${word}s`);
