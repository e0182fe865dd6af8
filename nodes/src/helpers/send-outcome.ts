import { EVENT, type FlowEvent, type JsonObject, type WaitReaction } from '@convoflow/engine';

/** The outputs of every node that sends a message. */
export const SEND_OUTPUTS = ['sent', 'window_closed', 'failed'] as const;

/** How a send ended, read from the event that reports its outcome; undefined for other events. */
export interface SendOutcome {
  output: (typeof SEND_OUTPUTS)[number];
  data?: JsonObject;
}

/**
 * Reads the outcome of a `sendMessage` effect of node `nodeId` from an event: `node.completed`
 * by its output (an output other than `sent` / `window_closed` counts as `failed`), `node.failed`
 * as `failed` with the error in `data.error`.
 *
 * Pure.
 */
export function sendOutcome(nodeId: string, event: FlowEvent): SendOutcome | undefined {
  if (event.type === EVENT.nodeCompleted && event.nodeId === nodeId) {
    const output = (SEND_OUTPUTS as readonly string[]).includes(event.output) ? (event.output as SendOutcome['output']) : 'failed';
    return event.data ? { output, data: event.data } : { output };
  }
  if (event.type === EVENT.nodeFailed && event.nodeId === nodeId) {
    return { output: 'failed', data: { error: { ...event.error } } };
  }
  return undefined;
}

/** A `leave` reaction by a send outcome. */
export const leaveBy = (outcome: SendOutcome): WaitReaction =>
  outcome.data ? { type: 'leave', output: outcome.output, data: outcome.data } : { type: 'leave', output: outcome.output };
