import type { ChannelId, OutboundMessage } from '@convoflow/engine';

/** How a send went, in the terms of the send node's outputs. */
export interface ChannelSendResult {
  status: 'sent' | 'window_closed' | 'failed';
  providerMessageId?: string;
  /** Why it was not sent, in words an operator understands. */
  reason?: string;
  /** A transient failure (rate limit, 5xx): the executor retries before reporting `failed`. */
  retryable?: boolean;
}

/** What a channel adapter needs to deliver one message. */
export interface ChannelSendRequest {
  workspaceId: string;
  contactId: string;
  /** The contact's id on this channel (phone number, PSID, chat id, ...). */
  to: string;
  message: OutboundMessage;
  /** `runId:seq`: passed to providers that deduplicate, so a retried send is delivered once. */
  idempotencyKey: string;
  /**
   * Aborted when the send has taken longer than the runtime waits (`sendTimeoutMs`): the runtime
   * has stopped waiting, and will try again with the same idempotency key. Pass it to `fetch`.
   */
  signal: AbortSignal;
}

/** One messaging channel's outbound side. Inbound webhooks are routes of their own. */
export interface ChannelAdapter {
  readonly channel: ChannelId;
  /**
   * Delivering on this channel is storing the message in the conversation: nothing leaves the
   * process (the simulator). The runtime then records such a send in the transaction of the step
   * that made it and carries the run on, instead of passing it through the outbox; `send` is not
   * called for it.
   */
  readonly deliveredByRecording?: boolean;
  send(request: ChannelSendRequest): Promise<ChannelSendResult>;
}

/** Adapters by channel. */
export type ChannelRegistry = ReadonlyMap<string, ChannelAdapter>;
