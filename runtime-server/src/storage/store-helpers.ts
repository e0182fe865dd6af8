import { isDeepStrictEqual } from 'node:util';
import type { JsonObject } from '@convoflow/engine';
import { StorageError } from './errors.js';
import type { OutboxEntry, StoredRunStatus, WorkspaceSettings } from './storage-port.js';

/**
 * Helpers both store adapters share, so they agree on defaults, cursors and field merging.
 * @internal
 */

/** Settings of a workspace created without any. @internal */
export const DEFAULT_WORKSPACE_SETTINGS: WorkspaceSettings = {
  interruptKeywords: [],
  allowPrivateNetwork: false,
  timezone: 'UTC',
};

/** Drops keys whose value is undefined, so a partial update never erases a setting by accident. @internal */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Page size when a list call names none, and the most a call may ask for. @internal */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Clamps a requested page size to 1..MAX_PAGE_SIZE. @internal */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(limit)));
}

/** A position in a list ordered by (createdAt, id), newest first. @internal */
export interface CursorPosition {
  createdAt: number;
  id: string;
}

/** Encodes the position after which the next page starts. @internal */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Decodes a cursor made by `encodeCursor`; throws StorageError `BAD_CURSOR` on anything else. @internal */
export function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new StorageError('BAD_CURSOR', 'Invalid pagination cursor');
}

/**
 * Merges `changes` into `fields` and names the keys whose value actually changed (deep compare), so
 * "contact updated" triggers fire only on real changes. Pure.
 * @internal
 */
export function mergeFields(fields: JsonObject, changes: JsonObject): { fields: JsonObject; changed: string[] } {
  const merged: JsonObject = { ...fields };
  const changed: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    if (Object.prototype.hasOwnProperty.call(fields, key) && isDeepStrictEqual(fields[key], value)) continue;
    merged[key] = value;
    changed.push(key);
  }
  return { fields: merged, changed };
}

/** Every run status with a zero count, to fill in the ones a count query did not return. @internal */
export function zeroStatusCounts(): Record<StoredRunStatus, number> {
  return { running: 0, waiting: 0, done: 0, failed: 0, cancelled: 0 };
}

/** Run statuses that mean the run has not ended. @internal */
export const ACTIVE_RUN_STATUSES: readonly StoredRunStatus[] = ['running', 'waiting'];

/**
 * An outbox entry as the adapters return it: the port's record plus the last failure's message,
 * so a retried or failed effect says why.
 */
export type StoredOutboxEntry = OutboxEntry & { lastError?: string };

/**
 * Message retention: the seq of the last message of `front` (the table's oldest, in seq order)
 * stored before `cutoff`, counting only up to the first one inside the window; undefined when the
 * oldest is inside it. Both adapters delete through that seq. Pure.
 */
export function expiredThrough(front: Array<{ seq: number; at: number }>, cutoff: number): number | undefined {
  let last: number | undefined;
  for (const message of front) {
    if (message.at >= cutoff) break;
    last = message.seq;
  }
  return last;
}
