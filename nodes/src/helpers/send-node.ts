import type { JsonObject, NodeScope, OutboundMessage } from '@convoflow/engine';
import type { ExecutableNodeDefinition, WaitNodeSpec } from '../types.js';
import { defineNode } from '../define-node.js';
import { SEND_OUTPUTS, leaveBy, sendOutcome } from './send-outcome.js';

/** What `sendNode` takes: a wait node spec without outputs or behaviour, plus the message. */
export type SendNodeSpec<P> = Omit<WaitNodeSpec<P>, 'kind' | 'enter' | 'on' | 'outputs' | 'execute' | 'waitsForReply'> & {
  /** Pure: builds the message from the (already rendered) params. */
  message(ctx: NodeScope<P>): OutboundMessage;
};

/**
 * Defines a node that sends one message and leaves by how the send went: `sent`,
 * `window_closed` (the channel's messaging window is closed) or `failed`.
 *
 * @example
 * const sendText = sendNode<{ text: string }>({
 *   type: 'send_text', typeVersion: 1, category: 'message', title: 'Send text', icon: 'message',
 *   description: 'Sends a text message.', params: textSchema,
 *   message: ({ params }) => ({ kind: 'text', text: params.text }),
 * });
 */
export function sendNode<P = JsonObject>(spec: SendNodeSpec<P>): ExecutableNodeDefinition {
  const { message, ...rest } = spec;
  return defineNode<P>({
    ...rest,
    kind: 'wait',
    outputs: [...SEND_OUTPUTS],
    enter: (ctx) => ({ type: 'stay', effects: [{ type: 'sendMessage', message: message(ctx) }], waitingFor: 'effect' }),
    on: (ctx, event) => {
      const outcome = sendOutcome(ctx.node.id, event);
      return outcome ? leaveBy(outcome) : { type: 'ignore' };
    },
  });
}
