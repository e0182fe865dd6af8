import type { Effect, FlowEvent, JsonObject } from '@convoflow/engine';
import type { ContactChannelIdentity, ContactRecord, ConversationMessage, RunRecord } from '../storage/storage-port.js';

export type SendEffect = Extract<Effect, { type: 'sendMessage' }>;

/** Where a run's sends go: the contact's identity on the run's channel, else its first one. */
export function recipientOf(contact: ContactRecord, run: Pick<RunRecord, 'channel'>): ContactChannelIdentity | undefined {
  return contact.identities.find((i) => i.channel === run.channel) ?? contact.identities[0];
}

/** A sent message as the conversation keeps it, keyed by the send's idempotency key (`runId:seq`). */
export function outboundRecord(
  run: Pick<RunRecord, 'id' | 'workspaceId' | 'contactId'>,
  to: ContactChannelIdentity,
  effect: SendEffect,
  idempotencyKey: string,
  at: number,
): Omit<ConversationMessage, 'seq'> {
  return {
    workspaceId: run.workspaceId,
    contactId: run.contactId,
    channel: to.channel,
    direction: 'outbound',
    message: effect.message as unknown as JsonObject,
    runId: run.id,
    nodeId: effect.nodeId,
    idempotencyKey,
    at,
  };
}

/** The event that tells a run how its send went, as the send node's output (`sent`, `failed`, ...). */
export function sendCompleted(effect: SendEffect, output: string, data: JsonObject, at: number): FlowEvent {
  return { type: 'node.completed', at, nodeId: effect.nodeId, seq: effect.seq, output, data };
}
