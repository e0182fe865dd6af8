import type { FlowEvent, InboundMessage, JsonObject } from '@convoflow/engine';

/**
 * What each kind of journal entry carries. The journal stores JSON; these are the shapes the
 * runtime writes, read back through `asPayload` (the runtime is the only writer, so a shape
 * mismatch is a bug and fails loudly rather than being guessed around).
 */
export interface PayloadByKind {
  message: { contactId: string; message: InboundMessage };
  api: { flowId: string; contactId: string; vars: JsonObject };
  webhook: { flowId: string; triggerId: string; contactId: string; body: JsonObject };
  contact: { contactId: string; created: boolean; changedFields: string[] };
  timer: { runId: string; timerId: string; dueAt: number };
  /** A cron occurrence of a scheduled trigger; such runs belong to the workspace's system contact. */
  schedule: { flowId: string; triggerId: string; contactId: string; occurrence: number };
  effect: { runId: string; event: FlowEvent };
  control: { runId: string; action: 'cancel' | 'retry'; reason?: string };
}

export type JournalPayloadKind = keyof PayloadByKind;

/** Writes a payload as stored JSON. */
export function toStored<K extends JournalPayloadKind>(_kind: K, payload: PayloadByKind[K]): JsonObject {
  return payload as unknown as JsonObject;
}

/** Reads a stored payload of a known kind. */
export function asPayload<K extends JournalPayloadKind>(_kind: K, stored: JsonObject): PayloadByKind[K] {
  return stored as unknown as PayloadByKind[K];
}
