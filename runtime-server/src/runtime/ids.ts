import { hash, randomUUID } from 'node:crypto';

/** Hex digits of the millisecond timestamp that leads every id (enough until the year 10889). */
const TIME_DIGITS = 12;
const TIME_LED = new RegExp(`^[a-z]+_([0-9a-f]{${TIME_DIGITS}})`);

/**
 * A fresh id with a readable prefix: the creation time in ms (hex, fixed width), then 80 random
 * bits. Ids made one after another sort together, so the B-tree indexes keyed by them take each
 * insert at their right edge and a batch of inserts dirties a few pages, not one page per row
 * (random ids made every commit rewrite pages all over the file into the WAL).
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${timeDigits(now)}${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/**
 * A run id derived from the journal entry that started it and the flow, so that processing the
 * same entry again after a crash finds the run it already created instead of starting another.
 * It keeps the entry's time prefix (see `newId`), so runs too are created in index order.
 */
export function deriveRunId(journalId: string, flowId: string, triggerId: string): string {
  const digest = hash('sha256', `${journalId}\u0000${flowId}\u0000${triggerId}`, 'base64url');
  const time = TIME_LED.exec(journalId)?.[1];
  return time ? `run_${time}${digest.slice(0, 16)}` : `run_${digest.slice(0, 22)}`;
}

/** The ordering key of a contact: its events are processed one at a time, in order. */
export function contactOrderingKey(workspaceId: string, contactId: string): string {
  return `${workspaceId}/${contactId}`;
}

function timeDigits(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(TIME_DIGITS, '0').slice(-TIME_DIGITS);
}
