import type { AnyActorScope, AnyStateMachine } from 'xstate';
import type { FlowDefinition, FlowNode } from '../flow/types.js';
import type { NodeDefinition } from '../catalogue/types.js';
import type { TemplateTree } from '../internal/template-params.js';
import type { StepRecorder } from '../internal/inert-scope.js';

/** The state keys of the final states (node states are `n:<escaped node id>`). */
export const FINAL = { done: '$done', failed: '$failed', cancelled: '$cancelled' } as const;

/** A node ready to run: its definition, its routes and where its templates are. */
export interface CompiledNode {
  node: FlowNode;
  definition: NodeDefinition;
  /** The machine state key of this node. */
  key: string;
  /** Output name to the state key it leads to. */
  routes: Map<string, string>;
  /** Where the template strings are in `params` (from the manifest schema), if any. */
  templates: TemplateTree | undefined;
  waitsForReply: boolean;
  /** For a `jump` node: the state key of its target. */
  jumpTo?: string;
}

/** Settings the compiled flow runs with. */
export interface CompiledSettings {
  replyTimeoutMs: number;
  /** What nodes see as `ctx.defaults`. */
  defaults: { replyTimeoutMs: number };
  maxNodeEntriesPerStep: number;
}

/**
 * A flow compiled to an XState machine, with the lookups `start`/`step` need. Build it once per
 * flow version and reuse it for every run of that version.
 */
export interface CompiledFlow {
  readonly flow: FlowDefinition;
  /** One state per node (`n:<node id>`) plus the final states `$done`, `$failed`, `$cancelled`. */
  readonly machine: AnyStateMachine;
  /** The node a run starts in. */
  readonly entryNodeId: string;
  /** Every node by id. */
  readonly nodes: ReadonlyMap<string, CompiledNode>;
  /** Every node by machine state key. */
  readonly nodesByKey: ReadonlyMap<string, CompiledNode>;
  readonly settings: CompiledSettings;
  /**
   * The inert actor scope the machine is stepped with and the recorder its executor fills.
   * @internal
   */
  readonly runtime: { scope: AnyActorScope; recorder: StepRecorder };
}

/**
 * The machine state key of a node id: ids may contain `.` and `#`, which XState reads as paths and
 * id references, so they are escaped.
 *
 * @internal
 */
export function stateKey(nodeId: string): string {
  return `n:${nodeId.replace(/[%.#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
