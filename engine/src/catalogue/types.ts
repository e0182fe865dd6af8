import type { JsonObject, JsonValue } from '../json.js';
import type { ChannelId, FlowNode } from '../flow/types.js';
import type { EffectRequest } from '../effects.js';
import type { FlowEvent } from '../events.js';

/** A JSON Schema (2020-12) object, as stored in a manifest. */
export type JsonSchema = JsonObject;

/**
 * The outputs of a node: a fixed list, or a fixed list plus one output per item of an array param
 * (e.g. one per button, keyed by the item's `id`). Declarative, so the designer can draw handles
 * from the manifest alone.
 */
export type OutputsSpec =
  | string[]
  | { fixed: string[]; fromParam: { param: string; key: string }; position?: 'before' | 'after' };

/**
 * How the engine runs a node:
 * - `pure`: resolved inside the transition (condition, switch, set variable, A/B split).
 * - `wait`: emits effects and waits for events (send, HTTP request, delay, ask question).
 * - `jump`: continues at the node named by its `target` param.
 * - `end`: ends the run.
 */
export type NodeKind = 'pure' | 'wait' | 'jump' | 'end';

/** The serialisable description of a node type: everything the designer and validator need. */
export interface NodeManifest {
  type: string;
  typeVersion: number;
  kind: NodeKind;
  category: 'trigger' | 'message' | 'logic' | 'data' | 'timing' | 'integration' | 'flow' | 'custom';
  title: string;
  description: string;
  /** An icon name from the designer's icon set, or a data: URL. */
  icon: string;
  /** JSON Schema of `params`. String params with `"format": "template"` are handlebars templates. */
  params: JsonSchema;
  outputs: OutputsSpec;
  /** Channels the node can render on; absent means every channel. */
  channels?: ChannelId[];
  /** True when the node waits for the contact's reply (it then must have a wired `timeout`). */
  waitsForReply?: boolean;
  /** Dotted paths of params naming a variable the node writes, e.g. `saveTo.variable`. */
  writesVariables?: string[];
  /** True when this version is kept only so old flows still run. */
  deprecated?: boolean;
}

/** Variables and contact fields a node sets. */
export interface StatePatch {
  vars?: Record<string, JsonValue>;
  contact?: Record<string, JsonValue>;
}

/** What templates and conditions can read: `contact.*`, `vars.*`, `trigger.*`, `nodes.<id>.*`. */
export interface TemplateScope {
  contact: JsonObject;
  vars: JsonObject;
  trigger: JsonObject;
  nodes: Record<string, JsonObject>;
  run: { id: string; startedAt: number };
}

/** What a node's pure functions receive. `params` have templates already rendered where asked. */
export interface NodeScope<P = JsonObject> {
  node: FlowNode;
  params: P;
  scope: TemplateScope;
  /** The time of the event being handled, epoch ms. */
  now: number;
  /** Flow-level defaults the node may need (e.g. the default reply timeout in ms). */
  defaults: { replyTimeoutMs: number };
  /** A number in [0, 1) derived from the run id, node id and visit: deterministic randomness. */
  random: number;
  /** Renders a handlebars template against `scope` (strict; throws TemplateError). */
  render(template: string): string;
}

/** The result of resolving a pure node. */
export interface PureResult {
  output: string;
  set?: StatePatch;
  /** Becomes `nodes.<id>.*`. */
  data?: JsonObject;
}

/**
 * What a waiting node does in response to entering or to an event:
 * - `stay`: keep waiting, ask for effects, keep node-local `state` (JSON) for the next event.
 * - `leave`: continue by `output`.
 * - `ignore`: the event is not for this node; nothing changes.
 * Timers the node scheduled and did not see fire are cancelled by the engine when it leaves.
 */
export type WaitReaction =
  | { type: 'stay'; effects?: EffectRequest[]; state?: JsonValue; set?: StatePatch; data?: JsonObject; waitingFor?: 'reply' | 'timer' | 'effect' }
  | { type: 'leave'; output: string; effects?: EffectRequest[]; set?: StatePatch; data?: JsonObject }
  | { type: 'ignore' };

/** What a waiting node sees of its own progress. */
export interface WaitState {
  /** Seq numbers of this node's effects whose outcome has not come back yet. */
  pendingSeqs: number[];
  /** Timers this node scheduled that have not fired or been cancelled. */
  timers: string[];
  /** Node-local state the node returned with its last `stay`. */
  state: JsonValue;
}

/** The behaviour half of a node definition, run by the engine inside its pure step. */
export type NodeBehaviour =
  | { kind: 'pure'; resolve(ctx: NodeScope): PureResult }
  | {
      kind: 'wait';
      enter(ctx: NodeScope): WaitReaction;
      /** Handles an event addressed to this node (outcome of its effects, its timers, a reply). */
      on(ctx: NodeScope, event: FlowEvent, wait: WaitState): WaitReaction;
    }
  | { kind: 'jump' }
  | { kind: 'end' };

/** A node type the engine can validate and compile: its manifest and its pure behaviour. */
export interface NodeDefinition {
  manifest: NodeManifest;
  behaviour: NodeBehaviour;
}

/** A set of node definitions, looked up by type and version. */
export interface Catalogue {
  get(type: string, typeVersion: number): NodeDefinition | undefined;
  /** Every version of every type, oldest first per type. */
  list(): NodeDefinition[];
}
