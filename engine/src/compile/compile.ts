import { createMachine, enqueueActions } from 'xstate';
import type { AnyStateMachine, EventObject } from 'xstate';
import type { FlowDefinition } from '../flow/types.js';
import type { Catalogue, NodeDefinition } from '../catalogue/types.js';
import type { FlowEvent, RunAbortedEvent } from '../events.js';
import { EVENT } from '../events.js';
import type { RunInput } from '../run.js';
import { parseIsoDuration } from '../internal/iso-duration.js';
import { templateTree } from '../internal/template-params.js';
import type { TemplateTree } from '../internal/template-params.js';
import { ACTION, createInertScope } from '../internal/inert-scope.js';
import type { CompiledFlow, CompiledNode, CompiledSettings } from './compiled-flow.js';
import { FINAL, stateKey } from './compiled-flow.js';
import { FlowCompileError } from './flow-compile-error.js';
import type { FlowCompileProblem } from './flow-compile-error.js';
import { initialContext } from './run-context.js';
import type { RunContext } from './run-context.js';
import { cancelRun, enterNode, handleEvent } from './reactions.js';
import { landingStates } from './landing-states.js';
import type { Draft, RunGraph } from './reactions.js';

/** Options of `compile`. */
export interface CompileOptions {
  /**
   * The node runs start in. By default: the first node of `flow.nodes` that no edge targets, or
   * `flow.nodes[0]` when every node is the target of an edge (a flow that is one loop).
   */
  startNodeId?: string;
  /**
   * How many nodes one step may enter without the run resting in a wait; past it the run fails
   * with `LOOP_LIMIT`. Default 1000.
   */
  maxNodeEntriesPerStep?: number;
}

/** The reply timeout used when `settings.defaultReplyTimeout` is missing or not a duration. */
export const DEFAULT_REPLY_TIMEOUT_MS = 24 * 3_600_000;
const DEFAULT_MAX_NODE_ENTRIES = 1_000;
const EVENT_TYPES = new Set<string>(Object.values(EVENT));

// Template locations depend only on a node type's manifest: found once per definition.
const templateTrees = new WeakMap<NodeDefinition, TemplateTree | null>();

/**
 * Compiles a flow to an XState machine with one state per node (`n:<node id>`) plus the final
 * states `$done`, `$failed` and `$cancelled`.
 *
 * How a run moves: entering a wait node's state (or the start node's) runs its reaction, which
 * sets `context.next` to the state it leaves for; `always` transitions guarded on `next` take it
 * there. Pure, jump and end nodes resolve inside the reaction that reaches them, one after the
 * other, so a chain of them costs one microstep and their states are never entered (except the
 * start node's). Events go to one root-level handler that hands them to the resting wait node;
 * the routes to the final states are on the root too. Effects leave as `cf.effect` actions.
 *
 * Only structural problems throw (an unknown node type or version, an edge or jump to a missing
 * node); run `validate()` first for everything else.
 *
 * Pure: no I/O.
 *
 * @throws FlowCompileError listing every structural problem found.
 * @example
 * const compiled = compile(flow, catalogue);
 * const result = start(compiled, { runId: 'r1', at: Date.now(), trigger: {}, contact: {} });
 */
export function compile(flow: FlowDefinition, catalogue: Catalogue, options: CompileOptions = {}): CompiledFlow {
  const problems: FlowCompileProblem[] = [];
  const nodes = new Map<string, CompiledNode>();
  const nodesByKey = new Map<string, CompiledNode>();

  for (const node of flow.nodes) {
    if (nodes.has(node.id)) {
      problems.push({ code: 'DUPLICATE_NODE_ID', message: `Two nodes have the id "${node.id}"`, nodeId: node.id });
      continue;
    }
    const definition = catalogue.get(node.type, node.typeVersion);
    if (!definition) {
      problems.push({
        code: 'UNKNOWN_NODE_TYPE',
        message: `Node "${node.id}" has type "${node.type}" version ${node.typeVersion}, which the catalogue does not have`,
        nodeId: node.id,
      });
      continue;
    }
    const compiled: CompiledNode = {
      node,
      definition,
      key: stateKey(node.id),
      routes: new Map(),
      templates: templatesOf(definition),
      waitsForReply: definition.manifest.waitsForReply === true,
    };
    nodes.set(node.id, compiled);
    nodesByKey.set(compiled.key, compiled);
  }

  const known = new Set(flow.nodes.map((n) => n.id));
  const targeted = new Set<string>();
  for (const edge of flow.edges) {
    if (!known.has(edge.source)) {
      problems.push({ code: 'EDGE_SOURCE_MISSING', message: `Edge "${edge.id}" starts at node "${edge.source}", which does not exist`, edgeId: edge.id });
    }
    if (!known.has(edge.target)) {
      problems.push({ code: 'EDGE_TARGET_MISSING', message: `Edge "${edge.id}" leads to node "${edge.target}", which does not exist`, edgeId: edge.id });
      continue;
    }
    targeted.add(edge.target);
    const routes = nodes.get(edge.source)?.routes;
    // The validator reports two edges from one output; the first one drawn wins.
    if (routes && !routes.has(edge.sourceOutput)) routes.set(edge.sourceOutput, stateKey(edge.target));
  }

  for (const cn of nodes.values()) {
    if (cn.definition.behaviour.kind !== 'jump') continue;
    const target = cn.node.params.target;
    if (typeof target !== 'string' || !known.has(target)) {
      problems.push({
        code: 'JUMP_TARGET_MISSING',
        message: `Jump node "${cn.node.id}" targets ${typeof target === 'string' ? `node "${target}", which does not exist` : 'no node (params.target is not a node id)'}`,
        nodeId: cn.node.id,
      });
      continue;
    }
    cn.jumpTo = stateKey(target);
  }

  let entryNodeId: string | undefined;
  if (options.startNodeId !== undefined) {
    if (known.has(options.startNodeId)) entryNodeId = options.startNodeId;
    else problems.push({ code: 'START_NODE_MISSING', message: `The start node "${options.startNodeId}" does not exist`, nodeId: options.startNodeId });
  } else {
    entryNodeId = (flow.nodes.find((n) => !targeted.has(n.id)) ?? flow.nodes[0])?.id;
    if (entryNodeId === undefined) problems.push({ code: 'NO_NODES', message: 'The flow has no nodes' });
  }

  if (problems.length > 0 || entryNodeId === undefined) throw new FlowCompileError(problems);

  const replyTimeoutMs = parseIsoDuration(flow.settings?.defaultReplyTimeout ?? '') ?? DEFAULT_REPLY_TIMEOUT_MS;
  const settings: CompiledSettings = {
    replyTimeoutMs,
    defaults: Object.freeze({ replyTimeoutMs }),
    maxNodeEntriesPerStep: options.maxNodeEntriesPerStep ?? DEFAULT_MAX_NODE_ENTRIES,
  };
  const machine = buildMachine(flow, { settings, nodesByKey }, stateKey(entryNodeId));
  return { flow, machine, entryNodeId, nodes, nodesByKey, settings, runtime: createInertScope() };
}

function templatesOf(definition: NodeDefinition): TemplateTree | undefined {
  let tree = templateTrees.get(definition);
  if (tree === undefined) {
    tree = templateTree(definition.manifest.params) ?? null;
    templateTrees.set(definition, tree);
  }
  return tree ?? undefined;
}

interface ActionArgs {
  context: RunContext;
  event: EventObject;
  enqueue: ((action: { type: string; params: unknown }) => void) & { assign(patch: Partial<RunContext>): void };
}

/** Turns a reaction into actions: one context assignment, then the records for the step result. */
function emit(enqueue: ActionArgs['enqueue'], d: Draft): void {
  enqueue.assign(d.patch());
  for (const effect of d.effects) enqueue({ type: ACTION.effect, params: effect });
  if (d.path.length > 0) enqueue({ type: ACTION.path, params: d.path });
  if (d.contactChanges) enqueue({ type: ACTION.contact, params: d.contactChanges });
}

/**
 * Hands an event to the wait node the run rests in; ends the run on `run.cancelled` (cancelled)
 * and `run.aborted` (failed, with the event's error).
 */
function dispatch(graph: RunGraph, context: RunContext, event: EventObject): Draft | undefined {
  if (event.type === EVENT.runCancelled || event.type === EVENT.runAborted) {
    const d = cancelRun(context, (event as FlowEvent).at);
    if (event.type === EVENT.runAborted) {
      d.error = (event as RunAbortedEvent).error;
      d.next = FINAL.failed;
    } else {
      d.next = FINAL.cancelled;
    }
    return d;
  }
  const nodeId = context.wait?.nodeId;
  const cn = nodeId === undefined ? undefined : graph.nodesByKey.get(stateKey(nodeId));
  return cn && EVENT_TYPES.has(event.type) ? handleEvent(graph, cn, context, event as FlowEvent) : undefined;
}

function eventAt(event: EventObject): number {
  return event.type === 'xstate.init' ? (event as EventObject & { input: RunInput }).input.at : (event as FlowEvent).at;
}

function buildMachine(flow: FlowDefinition, graph: RunGraph, entryKey: string): AnyStateMachine {
  const guards = new Map<string, (args: { context: RunContext }) => boolean>();
  const guardFor = (target: string): ((args: { context: RunContext }) => boolean) => {
    let guard = guards.get(target);
    if (!guard) {
      guard = ({ context }) => context.next === target;
      guards.set(target, guard);
    }
    return guard;
  };

  const landing = landingStates(graph.nodesByKey);
  const states: Record<string, object> = {};
  for (const cn of graph.nodesByKey.values()) {
    // Pure, jump and end nodes resolve inside the reaction that reaches them: only wait nodes and
    // the start node are ever entered by the machine, so only they need an entry and a way out.
    if (cn.definition.behaviour.kind !== 'wait' && cn.key !== entryKey) {
      states[cn.key] = {};
      continue;
    }
    const state: Record<string, unknown> = {
      entry: enqueueActions(({ context, event, enqueue }: ActionArgs) => {
        emit(enqueue, enterNode(graph, cn, context, eventAt(event)));
      }),
    };
    const targets = landing.get(cn.key);
    if (targets && targets.size > 0) {
      state.always = [...targets].map((target) => ({ guard: guardFor(target), target, reenter: true }));
    }
    states[cn.key] = state;
  }
  for (const final of [FINAL.done, FINAL.failed, FINAL.cancelled]) states[final] = { type: 'final' };

  // Events and the routes to the final states live on the root, once for all nodes: XState formats
  // every transition when the machine is created, and a 1,000-node flow must compile in a few ms.
  const config = {
    id: 'convoflow',
    context: ({ input }: { input: RunInput }) => initialContext(flow, input),
    initial: entryKey,
    states,
    on: {
      '*': {
        actions: enqueueActions(({ context, event, enqueue }: ActionArgs) => {
          const d = dispatch(graph, context, event);
          if (d) emit(enqueue, d);
        }),
      },
    },
    always: [FINAL.done, FINAL.failed, FINAL.cancelled].map((target) => ({ guard: guardFor(target), target: `.${target}` })),
  };
  // The states are built from data, which XState's config types cannot follow; the shape above is
  // checked by the engine's tests instead.
  return createMachine(config as unknown as Parameters<typeof createMachine>[0]);
}
