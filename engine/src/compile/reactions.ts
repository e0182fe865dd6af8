import type { JsonObject, JsonValue } from '../json.js';
import type { Effect, EffectRequest } from '../effects.js';
import type { FlowEvent } from '../events.js';
import { EVENT } from '../events.js';
import type { NodeScope, StatePatch, TemplateScope, WaitReaction, WaitState } from '../catalogue/types.js';
import type { FlowNode } from '../flow/types.js';
import type { PathStep } from '../run.js';
import { TemplateError } from '../templates/render.js';
import { RUN_LIMITS, formatCount } from '../limits.js';
import { renderFast } from '../internal/fast-template.js';
import { renderTemplates } from '../internal/template-params.js';
import { deterministicRandom } from '../internal/deterministic-random.js';
import type { CompiledNode, CompiledSettings } from './compiled-flow.js';
import { FINAL } from './compiled-flow.js';
import type { RunContext, RunError, WaitContext } from './run-context.js';

/**
 * The working copy of a run's context while one node reacts, plus what the reaction produced.
 * Fields are replaced, never mutated in place, except `wait`'s arrays, which every reaction copies
 * first: the context of the previous snapshot stays untouched.
 *
 * @internal
 */
export class Draft {
  vars: Record<string, JsonValue>;
  contact: JsonObject;
  nodes: Record<string, JsonObject>;
  seq: number;
  visits: Record<string, number>;
  wait: WaitContext | null;
  next: string | null = null;
  hops: number;
  error: RunError | null;
  readonly effects: Effect[] = [];
  readonly path: PathStep[] = [];
  contactChanges: JsonObject | undefined;
  /** The size of vars, contact and nodes as JSON, near enough (see applyPatch); unknown until needed. */
  stateChars: number | undefined;

  constructor(
    readonly ctx: RunContext,
    readonly at: number,
  ) {
    this.vars = ctx.vars;
    this.contact = ctx.contact;
    this.nodes = ctx.nodes;
    this.seq = ctx.seq;
    this.visits = ctx.visits;
    this.wait = ctx.wait;
    this.hops = ctx.hops;
    this.error = ctx.error;
  }

  private runInfo: TemplateScope['run'] | undefined;
  private ownsVisits = false;

  /** Records a node entry. Copies the previous snapshot's counts once, then writes in place. */
  countVisit(nodeId: string, visit: number): void {
    if (!this.ownsVisits) {
      this.visits = { ...this.visits };
      this.ownsVisits = true;
    }
    this.visits[nodeId] = visit;
  }

  /** `run.*` of the template scope, shared by the nodes of this reaction. */
  run(): TemplateScope['run'] {
    this.runInfo ??= { id: this.ctx.runId, startedAt: this.ctx.startedAt };
    return this.runInfo;
  }

  /** The context fields this reaction sets. */
  patch(): Partial<RunContext> {
    return {
      vars: this.vars,
      contact: this.contact,
      nodes: this.nodes,
      seq: this.seq,
      visits: this.visits,
      wait: this.wait,
      next: this.next,
      hops: this.hops,
      error: this.error,
    };
  }
}

/** What reactions need of the compiled flow. */
export interface RunGraph {
  settings: CompiledSettings;
  nodesByKey: ReadonlyMap<string, CompiledNode>;
}

/**
 * Enters a node: resolves a pure node, starts a wait node, follows a jump, ends at an end node;
 * then keeps going through every pure, jump and end node that follows, so a chain of pure nodes
 * costs one machine microstep. It stops where a wait node must be entered or the run ends.
 *
 * @internal
 */
export function enterNode(graph: RunGraph, cn: CompiledNode, ctx: RunContext, at: number): Draft {
  const d = new Draft(ctx, at);
  enter(graph.settings, d, cn);
  advance(graph, d);
  return d;
}

/** Resolves, inside the current reaction, the pure, jump and end nodes the run moves into. */
function advance(graph: RunGraph, d: Draft): void {
  while (d.next !== null) {
    const cn = graph.nodesByKey.get(d.next);
    if (!cn || cn.definition.behaviour.kind === 'wait') return;
    enter(graph.settings, d, cn);
  }
}

function enter(settings: CompiledSettings, d: Draft, cn: CompiledNode): void {
  const id = cn.node.id;
  const at = d.at;
  d.next = null;
  const visit = (d.visits[id] ?? 0) + 1;
  d.countVisit(id, visit);
  d.hops += 1;
  if (d.hops > settings.maxNodeEntriesPerStep) {
    d.path.push({ nodeId: id, at });
    failRun(d, {
      code: 'LOOP_LIMIT',
      message: `More than ${settings.maxNodeEntriesPerStep} nodes were entered without waiting once; stopped at node "${id}" (a loop without a wait?)`,
      nodeId: id,
    });
    return;
  }
  const behaviour = cn.definition.behaviour;
  switch (behaviour.kind) {
    case 'jump':
      d.path.push({ nodeId: id, output: 'jump', at });
      d.next = cn.jumpTo ?? FINAL.failed;
      return;
    case 'end':
      d.path.push({ nodeId: id, output: 'end', at });
      d.next = FINAL.done;
      return;
    case 'pure': {
      let result;
      try {
        result = behaviour.resolve(nodeScope(settings, cn, d, visit));
      } catch (err) {
        leaveWithError(d, cn, errorOf(err));
        return;
      }
      const refused = applyPatch(d, cn, result.set, result.data);
      if (refused) leaveWithError(d, cn, refused);
      else leave(d, cn, result.output);
      return;
    }
    case 'wait': {
      d.wait = { nodeId: id, pendingSeqs: [], timers: [], state: null, for: null };
      let reaction: WaitReaction;
      try {
        reaction = behaviour.enter(nodeScope(settings, cn, d, visit));
      } catch (err) {
        leaveWithError(d, cn, errorOf(err));
        return;
      }
      applyWait(d, cn, reaction.type === 'ignore' ? { type: 'stay' } : reaction, true);
      return;
    }
  }
}

/**
 * Delivers an event to the wait node the run rests in, after the engine's routing rules.
 *
 * @internal
 * @returns the reaction, or `undefined` when the event is ignored (nothing changes).
 */
export function handleEvent(
  graph: RunGraph,
  cn: CompiledNode,
  ctx: RunContext,
  event: FlowEvent,
): Draft | undefined {
  const behaviour = cn.definition.behaviour;
  const wait = ctx.wait;
  const id = cn.node.id;
  if (behaviour.kind !== 'wait' || !wait || wait.nodeId !== id) return undefined;
  let pendingSeqs = wait.pendingSeqs;
  let timers = wait.timers;
  let delivered: FlowEvent = event;
  switch (event.type) {
    case EVENT.nodeCompleted:
    case EVENT.nodeFailed:
      if (event.nodeId !== id || !pendingSeqs.includes(event.seq)) return undefined;
      pendingSeqs = pendingSeqs.filter((seq) => seq !== event.seq);
      break;
    case EVENT.timerFired: {
      const timer = timers.find((t) => t.key === event.timerId);
      if (!timer) return undefined;
      timers = timers.filter((t) => t !== timer);
      delivered = { ...event, timerId: timer.id };
      break;
    }
    case EVENT.messageReceived:
      if (!cn.waitsForReply) return undefined;
      break;
    default:
      return undefined;
  }
  const d = new Draft(ctx, event.at);
  d.hops = 0;
  d.wait = { ...wait, pendingSeqs: [...pendingSeqs], timers: [...timers] };
  const visit = ctx.visits[id] ?? 1;
  let reaction: WaitReaction;
  try {
    reaction = behaviour.on(nodeScope(graph.settings, cn, d, visit), delivered, waitState(d.wait));
  } catch (err) {
    reaction = { type: 'ignore' };
    leaveWithError(d, cn, errorOf(err));
  }
  if (d.next === null) {
    if (reaction.type === 'ignore') {
      if (event.type !== EVENT.nodeFailed) return undefined;
      leaveWithError(d, cn, { code: event.error.code, message: event.error.message });
    } else {
      applyWait(d, cn, reaction, false);
    }
  }
  advance(graph, d);
  return d;
}

/**
 * Cancels a run: every timer still pending is cancelled.
 *
 * @internal
 */
export function cancelRun(ctx: RunContext, at: number): Draft {
  const d = new Draft(ctx, at);
  if (ctx.wait) {
    d.wait = { ...ctx.wait, timers: [...ctx.wait.timers] };
    cancelTimers(d, ctx.wait.nodeId);
  }
  d.wait = null;
  return d;
}

function applyWait(d: Draft, cn: CompiledNode, reaction: Exclude<WaitReaction, { type: 'ignore' }>, entering: boolean): void {
  const refused = applyPatch(d, cn, reaction.set, reaction.data);
  if (refused) {
    leaveWithError(d, cn, refused);
    return;
  }
  if (reaction.effects) issue(d, cn.node, reaction.effects);
  if (reaction.type === 'leave') {
    leave(d, cn, reaction.output);
    return;
  }
  // A node resumed from a wait shows in a later step's path only once it leaves, with its output.
  if (entering) d.path.push({ nodeId: cn.node.id, at: d.at });
  const wait = d.wait as WaitContext;
  if (reaction.state !== undefined) wait.state = reaction.state;
  wait.for = reaction.waitingFor ?? null;
  if (wait.pendingSeqs.length === 0 && wait.timers.length === 0 && !cn.waitsForReply) {
    failRun(d, {
      code: 'NODE_STUCK',
      message: `Node "${cn.node.id}" waits with no effect outstanding, no timer and no reply expected: it could never continue`,
      nodeId: cn.node.id,
    });
  }
}

function issue(d: Draft, node: FlowNode, requests: EffectRequest[]): void {
  const wait = d.wait;
  for (const request of requests) {
    switch (request.type) {
      case 'sendMessage': {
        const seq = ++d.seq;
        d.effects.push({ type: 'sendMessage', seq, nodeId: node.id, message: request.message });
        wait?.pendingSeqs.push(seq);
        break;
      }
      case 'executeNode': {
        const seq = ++d.seq;
        d.effects.push({
          type: 'executeNode',
          seq,
          nodeId: node.id,
          nodeType: node.type,
          typeVersion: node.typeVersion,
          params: request.params,
        });
        wait?.pendingSeqs.push(seq);
        break;
      }
      case 'scheduleTimer': {
        if (wait) {
          // Scheduling an id again moves the timer: the old one must not fire into the new wait.
          const old = wait.timers.findIndex((t) => t.id === request.timerId);
          if (old >= 0) {
            const [timer] = wait.timers.splice(old, 1);
            if (timer) d.effects.push({ type: 'cancelTimer', seq: ++d.seq, nodeId: node.id, timerId: timer.key });
          }
        }
        const seq = ++d.seq;
        // Unique in the run, so a timer of an earlier visit of this node can never fire into a later one.
        const key = `${node.id}:${request.timerId}:${seq}`;
        d.effects.push({ type: 'scheduleTimer', seq, nodeId: node.id, timerId: key, dueAt: request.dueAt });
        wait?.timers.push({ id: request.timerId, key });
        break;
      }
      case 'cancelTimer': {
        const index = wait ? wait.timers.findIndex((t) => t.id === request.timerId) : -1;
        const timer = wait?.timers[index];
        if (!wait || !timer) break;
        wait.timers.splice(index, 1);
        d.effects.push({ type: 'cancelTimer', seq: ++d.seq, nodeId: node.id, timerId: timer.key });
        break;
      }
    }
  }
}

function cancelTimers(d: Draft, nodeId: string): void {
  const wait = d.wait;
  if (!wait) return;
  for (const timer of wait.timers) {
    d.effects.push({ type: 'cancelTimer', seq: ++d.seq, nodeId, timerId: timer.key });
  }
  wait.timers = [];
}

/**
 * Outputs that mean "this did not work". Leaving by one that is not connected fails the run with
 * the reason, instead of ending it as completed: nothing fails silently.
 */
const FAILURE_OUTPUTS: ReadonlySet<string> = new Set(['failed', 'error', 'window_closed']);

function reasonOf(data: JsonObject | undefined): string | undefined {
  const error = data?.error;
  if (error && typeof error === 'object' && !Array.isArray(error) && typeof error.message === 'string') return error.message;
  return typeof data?.reason === 'string' ? data.reason : undefined;
}

function leave(d: Draft, cn: CompiledNode, output: string, cause?: RunError): void {
  const id = cn.node.id;
  if (d.wait?.nodeId === id) {
    cancelTimers(d, id);
    d.wait = null;
  }
  d.path.push({ nodeId: id, output, at: d.at });
  const target = cn.routes.get(output);
  if (target !== undefined) {
    d.next = target;
    return;
  }
  if (FAILURE_OUTPUTS.has(output) || cause) {
    const reason = cause?.message ?? reasonOf(d.nodes[id]);
    failRun(d, {
      code: cause?.code ?? 'NODE_FAILED',
      message: cause
        ? `Node "${id}" failed: ${cause.message}`
        : `Node "${id}" left by its "${output}" output, which is not connected${reason ? ` (${reason})` : ''}`,
      nodeId: id,
    });
    return;
  }
  d.next = FINAL.done;
}

function leaveWithError(d: Draft, cn: CompiledNode, cause: RunError): void {
  const id = cn.node.id;
  d.nodes = { ...d.nodes, [id]: { ...d.nodes[id], error: { code: cause.code, message: cause.message } } };
  d.stateChars = undefined;
  leave(d, cn, 'failed', cause);
}

function failRun(d: Draft, error: RunError): void {
  if (d.wait) {
    cancelTimers(d, d.wait.nodeId);
    d.wait = null;
  }
  d.error = error;
  d.next = FINAL.failed;
}

/** Applies a node's changes, or none of them when they would go past RUN_LIMITS: that is the error. */
function applyPatch(d: Draft, cn: CompiledNode, set: StatePatch | undefined, data: JsonObject | undefined): RunError | undefined {
  const refused = oversized('variable', set?.vars) ?? oversized('contact field', set?.contact);
  if (refused) return refused;
  const vars = set?.vars ? { ...d.vars, ...set.vars } : d.vars;
  const contact = set?.contact ? { ...d.contact, ...set.contact } : d.contact;
  const nodes = data ? { ...d.nodes, [cn.node.id]: data } : d.nodes;
  if (set || data) {
    // Sized once per reaction, then by what each patch replaces.
    let chars = (d.stateChars ??= entriesChars(d.vars) + entriesChars(d.contact) + entriesChars(d.nodes));
    chars += patchChars(d.vars, set?.vars) + patchChars(d.contact, set?.contact);
    if (data) chars += patchChars(d.nodes, { [cn.node.id]: data });
    if (chars > RUN_LIMITS.maxStateChars) {
      return {
        code: 'STATE_TOO_LARGE',
        message: `the run's variables, contact and node outputs would hold about ${formatCount(chars)} characters; a run holds at most ${formatCount(RUN_LIMITS.maxStateChars)}`,
      };
    }
    d.stateChars = chars;
  }
  d.vars = vars;
  d.contact = contact;
  d.nodes = nodes;
  if (set?.contact) d.contactChanges = { ...d.contactChanges, ...set.contact };
  return undefined;
}

const jsonChars = (value: JsonValue): number => (typeof value === 'string' ? value.length : (JSON.stringify(value)?.length ?? 0));
/** An entry's share of its object's JSON, near enough for a limit: `"key":value,`. */
const entryChars = (key: string, value: JsonValue | undefined): number => (value === undefined ? 0 : key.length + 4 + jsonChars(value));
const entriesChars = (object: Readonly<Record<string, JsonValue>>): number => {
  let chars = 2;
  for (const key in object) chars += entryChars(key, object[key]);
  return chars;
};
/** How many characters writing `changes` over `object` adds (or, when negative, frees). */
const patchChars = (object: Readonly<Record<string, JsonValue>>, changes: Readonly<Record<string, JsonValue>> | undefined): number => {
  let chars = 0;
  for (const key in changes) chars += entryChars(key, changes[key]) - (Object.hasOwn(object, key) ? entryChars(key, object[key]) : 0);
  return chars;
};

function oversized(what: string, values: Readonly<Record<string, JsonValue>> | undefined): RunError | undefined {
  if (!values) return undefined;
  for (const [name, value] of Object.entries(values)) {
    const chars = jsonChars(value);
    if (chars > RUN_LIMITS.maxValueChars) {
      return {
        code: 'VALUE_TOO_LARGE',
        message: `${what} "${name}" would hold ${formatCount(chars)} characters; a value holds at most ${formatCount(RUN_LIMITS.maxValueChars)}`,
      };
    }
  }
  return undefined;
}

function errorOf(err: unknown): RunError {
  if (err instanceof TemplateError) return { code: err.code, message: err.message };
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'NODE_ERROR', message: err.message };
  }
  return { code: 'NODE_ERROR', message: String(err) };
}

function waitState(wait: WaitContext): WaitState {
  return { pendingSeqs: wait.pendingSeqs.slice(), timers: wait.timers.map((t) => t.id), state: wait.state };
}

/** The NodeScope of one node reaction: rendered params, lazily built scope, render and randomness. */
class Scope implements NodeScope {
  readonly params: JsonObject;
  private templateScope: TemplateScope | undefined;
  private renderer: ((template: string) => string) | undefined;
  private drawn: number | undefined;

  constructor(
    private readonly settings: CompiledSettings,
    private readonly cn: CompiledNode,
    private readonly d: Draft,
    private readonly visit: number,
  ) {
    this.params = cn.templates ? renderTemplates(cn.node.params, cn.templates, this.render) : cn.node.params;
  }

  get node(): FlowNode {
    return this.cn.node;
  }

  get now(): number {
    return this.d.at;
  }

  get defaults(): { replyTimeoutMs: number } {
    return this.settings.defaults;
  }

  get scope(): TemplateScope {
    const d = this.d;
    this.templateScope ??= { contact: d.contact, vars: d.vars, trigger: d.ctx.trigger, nodes: d.nodes, run: d.run() };
    return this.templateScope;
  }

  get render(): (template: string) => string {
    this.renderer ??= (template: string): string => renderFast(template, this.scope);
    return this.renderer;
  }

  get random(): number {
    this.drawn ??= deterministicRandom(this.d.ctx.runId, this.cn.node.id, this.visit);
    return this.drawn;
  }
}

function nodeScope(settings: CompiledSettings, cn: CompiledNode, d: Draft, visit: number): NodeScope {
  return new Scope(settings, cn, d, visit);
}
