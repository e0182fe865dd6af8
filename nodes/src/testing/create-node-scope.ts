import {
  renderTemplate,
  type JsonObject,
  type JsonValue,
  type NodeScope,
  type TemplateScope,
  type WaitState,
} from '@convoflow/engine';

/** What a test says about the run a node runs in; everything but `params` has a default. */
export interface NodeScopeOptions<P> {
  /** The node's params as the engine hands them: templates already rendered. */
  params: P;
  nodeId?: string;
  type?: string;
  typeVersion?: number;
  contact?: JsonObject;
  vars?: Record<string, JsonValue>;
  trigger?: JsonObject;
  nodes?: Record<string, JsonObject>;
  runId?: string;
  startedAt?: number;
  /** Time of the event being handled, epoch ms (default 2025-01-06T09:00:00Z, a Monday). */
  now?: number;
  random?: number;
  replyTimeoutMs?: number;
}

/** 2025-01-06T09:00:00Z, a Monday: the default `now` of a test scope. */
export const TEST_NOW = Date.UTC(2025, 0, 6, 9, 0, 0);

/**
 * Builds the `NodeScope` the engine would hand a node's pure functions, for testing a node's
 * `resolve` / `enter` / `on` directly. `render` renders against the scope in strict mode, as in
 * the engine.
 *
 * Pure.
 *
 * @example
 * const ctx = createNodeScope({ params: { rules }, contact: { country: 'SG' } });
 * condition.behaviour.kind === 'pure' && condition.behaviour.resolve(ctx).output // 'true'
 */
export function createNodeScope<P = JsonObject>(options: NodeScopeOptions<P>): NodeScope<P> {
  const now = options.now ?? TEST_NOW;
  const scope: TemplateScope = {
    contact: options.contact ?? {},
    vars: options.vars ?? {},
    trigger: options.trigger ?? {},
    nodes: options.nodes ?? {},
    run: { id: options.runId ?? 'run-test', startedAt: options.startedAt ?? now },
  };
  return {
    node: {
      id: options.nodeId ?? 'node_1',
      type: options.type ?? 'test',
      typeVersion: options.typeVersion ?? 1,
      position: { x: 0, y: 0 },
      params: options.params as unknown as JsonObject,
    },
    params: options.params,
    scope,
    now,
    defaults: { replyTimeoutMs: options.replyTimeoutMs ?? 86_400_000 },
    random: options.random ?? 0.5,
    render: (template) => renderTemplate(template, scope),
  };
}

/**
 * Builds the `WaitState` a waiting node sees, for testing its `on`.
 *
 * Pure.
 */
export function createWaitState(partial: Partial<WaitState> = {}): WaitState {
  return { pendingSeqs: partial.pendingSeqs ?? [], timers: partial.timers ?? [], state: partial.state ?? null };
}
