import { createHash, randomUUID } from 'node:crypto';

/**
 * A run id derived from the journal entry that started it and the flow, so that processing the
 * same entry again after a crash finds the run it already created instead of starting another.
 */
export function deriveRunId(journalId: string, flowId: string, triggerId: string): string {
  const digest = createHash('sha256').update(`${journalId}\u0000${flowId}\u0000${triggerId}`).digest('base64url');
  return `run_${digest.slice(0, 22)}`;
}

/** A fresh random id with a readable prefix. */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

/** The ordering key of a contact: its events are processed one at a time, in order. */
export function contactOrderingKey(workspaceId: string, contactId: string): string {
  return `${workspaceId}/${contactId}`;
}
