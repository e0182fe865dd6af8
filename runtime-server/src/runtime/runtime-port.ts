import type { InboundMessage, JsonObject, OutboundMessage } from '@convoflow/engine';
import type { ContactChannelIdentity, ContactRecord, RunRecord } from '../storage/storage-port.js';

/** The answer to an inbound event: journaled (durable) or recognised as a redelivery. */
export interface Accepted {
  /** False when the dedupe key was seen before: the event is not processed again. */
  accepted: boolean;
  journalId: string;
}

/** A message the simulator channel delivered to a contact, as the test chat shows it. */
export interface SimulatorOutbound {
  seq: number;
  runId: string;
  nodeId: string;
  message: OutboundMessage;
  at: number;
}

/** An outbound message this process stored (committed) for a contact. */
export interface MessageStored {
  workspaceId: string;
  contactId: string;
  channel: string;
  /** The contact's id on that channel (for the simulator: the contact name the test chat uses). */
  externalId: string;
  /** Its place in the conversation, when the store reported it (a send recorded with its step does not). */
  seq?: number;
}

/** The error code of a run the runtime failed for taking every step a run may (RUN_LIMITS.maxSteps). */
export const TOO_MANY_STEPS = 'TOO_MANY_STEPS';

/**
 * What the HTTP layer asks of the durable runtime. Every `receive*`/`start*` resolves only once the
 * event is journaled, so the caller may acknowledge it (2xx) as soon as the promise resolves.
 */
export interface RuntimePort {
  /** A message from a contact on a channel (webhook adapters and the simulator call this). */
  receiveMessage(
    workspaceId: string,
    message: InboundMessage,
    profile?: { name?: string },
  ): Promise<Accepted>;
  /** Starts a run of a flow's active version for a contact ("started by API"). */
  startByApi(
    workspaceId: string,
    flowId: string,
    input: { contactId: string; vars?: JsonObject; idempotencyKey?: string },
  ): Promise<Accepted>;
  /** An inbound webhook trigger call; the caller has already verified the trigger's secret. */
  receiveWebhook(
    workspaceId: string,
    flowId: string,
    triggerId: string,
    input: { contactId?: string; body: JsonObject; idempotencyKey?: string },
  ): Promise<Accepted>;
  /**
   * Creates a contact and, in the same transaction, the event that fires contact-created triggers.
   * `at` stamps the record (default: the runtime's clock). Throws StorageError CONFLICT when an
   * identity belongs to another contact.
   */
  createContact(workspaceId: string, fields: JsonObject, identities: ContactChannelIdentity[], at?: number): Promise<ContactRecord>;
  /**
   * Merges fields into a contact and, in the same transaction when some changed, writes the event
   * that fires contact-updated triggers. Undefined when there is no such contact.
   */
  updateContact(workspaceId: string, contactId: string, fields: JsonObject, at?: number): Promise<{ contact: ContactRecord; changed: string[] } | undefined>;
  /**
   * A contact was created or changed elsewhere (a CRM writing the store itself); fires contact
   * triggers. Prefer createContact/updateContact, which write the change and its event as one.
   */
  contactChanged(
    workspaceId: string,
    contactId: string,
    change: { created: boolean; changedFields: string[] },
  ): Promise<Accepted>;
  /**
   * Which version of a flow is active changed (publish, rollback, delete): the triggers of this
   * process see it at once, and the flow's schedules are registered with the scheduler or removed.
   * `previousVersion` is the version that was active before, whose schedules go.
   */
  flowChanged(workspaceId: string, flowId: string, previousVersion: number | undefined): Promise<void>;
  /** A workspace's settings changed: this process reads them again at once (others within a second). */
  workspaceChanged(workspaceId: string): void;
  /** Cancels a run that has not ended; cancels its timers. */
  cancelRun(workspaceId: string, runId: string, reason: string): Promise<RunRecord>;
  /** Re-runs a failed run from the node that failed, with the state it had there. */
  retryRun(workspaceId: string, runId: string): Promise<RunRecord>;
  /** What the simulator channel sent to a contact, after `afterSeq`. */
  simulatorTranscript(workspaceId: string, contactExternalId: string, afterSeq?: number): Promise<SimulatorOutbound[]>;
  /**
   * Calls `listener` after an outbound message is stored, so a long poll can answer at once instead
   * of re-reading the store: at once for this process's messages, within a poll for those other
   * processes sharing the store wrote (one may be announced twice). The store is polled only while
   * somebody listens. Returns the function that unsubscribes.
   */
  onMessageStored(listener: (event: MessageStored) => void): () => void;
  /** Resolves once every journaled event so far is processed and every due effect performed (tests, drain). */
  idle(timeoutMs?: number): Promise<void>;
}
