import { EVENT, type JsonObject, type NodeScope, type WaitReaction } from '@convoflow/engine';
import type { ExecutableNodeDefinition, NodeExecute, WaitNodeSpec } from '../types.js';
import { defineNode } from '../define-node.js';
import { nodeOutputs } from './outputs.js';
import { NodeDefinitionError } from '../errors.js';

/** What `actionNode` takes: a wait node spec whose behaviour is "execute, then leave". */
export type ActionNodeSpec<P> = Omit<WaitNodeSpec<P>, 'kind' | 'enter' | 'on' | 'execute' | 'waitsForReply'> & {
  execute: NodeExecute<P>;
  /** The output to leave by when the runtime reports `node.failed` (execute threw for good). */
  failureOutput: string;
  /** Pure: the params the `executeNode` effect carries; defaults to the rendered params. */
  executeParams?(ctx: NodeScope<P>): JsonObject;
};

/**
 * Defines a node whose work is I/O: on entering it emits `executeNode`; the runtime runs
 * `execute(ctx, params)` and reports the result as `node.completed`, which the node leaves by
 * (its `data` becomes `nodes.<id>.*`, its `set` updates variables and contact fields). A
 * `node.failed` leaves by `failureOutput` with the error in `data.error`; an output `execute`
 * returned that the node does not have does the same.
 *
 * @example
 * const lookup = actionNode<{ email: string }>({
 *   type: 'crm_lookup', typeVersion: 1, category: 'integration', title: 'Find customer',
 *   description: 'Looks the contact up in the CRM.', icon: 'search', params: schema,
 *   outputs: ['found', 'not_found', 'error'], failureOutput: 'error',
 *   execute: async (ctx, params) => ({ output: 'found', data: { id: 'c-1' } }),
 * });
 */
export function actionNode<P = JsonObject>(spec: ActionNodeSpec<P>): ExecutableNodeDefinition {
  const { execute, failureOutput, executeParams, ...rest } = spec;
  const fixed = Array.isArray(spec.outputs) ? spec.outputs : spec.outputs.fixed;
  if (!Array.isArray(fixed) || !fixed.includes(failureOutput)) {
    throw new NodeDefinitionError(String(spec.type), 'failureOutput', `"${failureOutput}" must be one of the fixed outputs`);
  }
  const fail = (code: string, message: string, extra: JsonObject = {}): WaitReaction => ({
    type: 'leave',
    output: failureOutput,
    data: { error: { code, message, ...extra } },
  });
  return defineNode<P>({
    ...rest,
    kind: 'wait',
    execute,
    enter: (ctx) => ({
      type: 'stay',
      effects: [{ type: 'executeNode', params: executeParams ? executeParams(ctx) : (ctx.params as unknown as JsonObject) }],
      waitingFor: 'effect',
    }),
    on: (ctx, event) => {
      if (event.type === EVENT.nodeFailed && event.nodeId === ctx.node.id) {
        return fail(event.error.code, event.error.message);
      }
      if (event.type !== EVENT.nodeCompleted || event.nodeId !== ctx.node.id) return { type: 'ignore' };
      if (!nodeOutputs(spec, ctx.params as unknown as JsonObject).includes(event.output)) {
        return fail('UNKNOWN_OUTPUT', `the node has no output "${event.output}"`);
      }
      return {
        type: 'leave',
        output: event.output,
        ...(event.data ? { data: event.data } : {}),
        ...(event.set ? { set: event.set } : {}),
      };
    },
  });
}
