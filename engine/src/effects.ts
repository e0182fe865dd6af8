import type { JsonObject } from './json.js';
import type { OutboundMessage } from './message.js';

/**
 * Effects are data the runtime executes; the engine never performs them. Each carries the `seq`
 * that, with the run id, forms its idempotency key `runId:seq`.
 */
export type Effect =
  | { type: 'sendMessage'; seq: number; nodeId: string; message: OutboundMessage }
  | { type: 'executeNode'; seq: number; nodeId: string; nodeType: string; typeVersion: number; params: JsonObject }
  | { type: 'scheduleTimer'; seq: number; nodeId: string; timerId: string; dueAt: number }
  | { type: 'cancelTimer'; seq: number; nodeId: string; timerId: string };

// A record, so the compiler refuses this list when an effect type is added or removed.
const EFFECT_TYPE_SET = { sendMessage: 0, executeNode: 0, scheduleTimer: 0, cancelTimer: 0 } satisfies Record<Effect['type'], 0>;

/** Every type of effect a run may ask for. */
export const EFFECT_TYPES = Object.freeze(Object.keys(EFFECT_TYPE_SET) as Array<Effect['type']>);

/** An effect as a node asks for it; the engine adds `seq` and `nodeId`. */
export type EffectRequest =
  | { type: 'sendMessage'; message: OutboundMessage }
  | { type: 'executeNode'; params: JsonObject }
  | { type: 'scheduleTimer'; timerId: string; dueAt: number }
  | { type: 'cancelTimer'; timerId: string };

/** Builds the idempotency key of an effect of a run. */
export const idempotencyKey = (runId: string, seq: number): string => `${runId}:${seq}`;
