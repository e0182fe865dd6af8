import type {
  ChannelId,
  FlowEvent,
  JsonObject,
  JsonSchema,
  NodeDefinition,
  NodeKind,
  NodeManifest,
  NodeScope,
  OutputsSpec,
  PureResult,
  StatePatch,
  WaitReaction,
  WaitState,
} from '@convoflow/engine';

/** Severity of a node's log line. */
export type NodeLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * What a node's `execute` receives: its only way to the outside world. The runtime builds it for
 * each `executeNode` effect.
 */
export interface NodeExecutionContext {
  runId: string;
  nodeId: string;
  /** `runId:seq` of the effect: send it to remote APIs that deduplicate, so a retry is harmless. */
  idempotencyKey: string;
  /** The fetch to use for HTTP (the runtime may wrap it with limits or tracing). */
  fetch: typeof fetch;
  log(level: NodeLogLevel, msg: string, data?: JsonObject): void;
  /** Aborted when the run is cancelled or the runtime shuts down. */
  signal: AbortSignal;
  config: {
    /** Whether the workspace lets nodes reach private, loopback and link-local addresses. */
    allowPrivateNetwork: boolean;
  };
}

/** What `execute` returns; it becomes the `node.completed` event the node's `on` receives. */
export interface NodeResult {
  output: string;
  /** Becomes `nodes.<nodeId>.*`. */
  data?: JsonObject;
  /** Variables and contact fields to set. */
  set?: StatePatch;
}

/** Performs a node's side effect; `params` are what the node's `executeNode` effect carried. */
export type NodeExecute<P> = (ctx: NodeExecutionContext, params: P) => Promise<NodeResult>;

/**
 * A node definition the engine can compile (manifest + pure behaviour) plus, for nodes whose
 * effect the runtime performs through `executeNode`, the `execute` that performs it.
 */
export interface ExecutableNodeDefinition extends NodeDefinition {
  execute?: NodeExecute<JsonObject>;
}

/** The fields every node spec has: the manifest, flattened. */
interface NodeSpecBase {
  type: string;
  typeVersion: number;
  category: NodeManifest['category'];
  title: string;
  description: string;
  icon: string;
  params: JsonSchema;
  outputs: OutputsSpec;
  channels?: ChannelId[];
  waitsForReply?: boolean;
  writesVariables?: string[];
  deprecated?: boolean;
}

/** A node resolved inside the engine's step (condition, switch, set variable). */
export interface PureNodeSpec<P> extends NodeSpecBase {
  kind: 'pure';
  /** Pure: picks the output from params and scope. */
  resolve(ctx: NodeScope<P>): PureResult;
}

/** A node that emits effects and waits for events (send, ask, delay, action). */
export interface WaitNodeSpec<P> extends NodeSpecBase {
  kind: 'wait';
  /** Pure: what to do on entering the node. */
  enter(ctx: NodeScope<P>): WaitReaction;
  /** Pure: what to do with an event addressed to the node. */
  on(ctx: NodeScope<P>, event: FlowEvent, wait: WaitState): WaitReaction;
  /** The I/O behind an `executeNode` effect this node emits, run by the runtime. */
  execute?: NodeExecute<P>;
}

/** A node the engine handles by itself (`jump` to its target, `end` the run). */
export interface StructuralNodeSpec extends NodeSpecBase {
  kind: Extract<NodeKind, 'jump' | 'end'>;
}

/** Everything `defineNode` takes. `P` types the params the node's functions receive. */
export type NodeSpec<P = JsonObject> = PureNodeSpec<P> | WaitNodeSpec<P> | StructuralNodeSpec;
