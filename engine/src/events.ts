import type { JsonObject } from './json.js';
import type { InboundMessage } from './message.js';
import type { StatePatch } from './catalogue/types.js';

/**
 * Events are namespaced facts in the past tense. Every event carries `at`, the time it happened in
 * epoch milliseconds: the engine never reads a clock, so time enters only here.
 */
export const EVENT = {
  messageReceived: 'message.received',
  timerFired: 'timer.fired',
  nodeCompleted: 'node.completed',
  nodeFailed: 'node.failed',
  runCancelled: 'run.cancelled',
  runAborted: 'run.aborted',
} as const;

export interface MessageReceivedEvent {
  type: typeof EVENT.messageReceived;
  at: number;
  message: InboundMessage;
}
export interface TimerFiredEvent {
  type: typeof EVENT.timerFired;
  at: number;
  timerId: string;
}
/** The outcome of an effect (`sendMessage` or `executeNode`) the runtime performed. */
export interface NodeCompletedEvent {
  type: typeof EVENT.nodeCompleted;
  at: number;
  nodeId: string;
  /** The `seq` of the effect this completes; stale or duplicate outcomes are ignored. */
  seq: number;
  /** The output the node leaves by (e.g. `sent`, `window_closed`, `success`). */
  output: string;
  /** Becomes `nodes.<nodeId>.*` in templates and conditions. */
  data?: JsonObject;
  /** Variables and contact fields the node sets (e.g. an HTTP response mapped to variables). */
  set?: StatePatch;
}
export interface NodeFailedEvent {
  type: typeof EVENT.nodeFailed;
  at: number;
  nodeId: string;
  seq: number;
  error: { code: string; message: string; retryable?: boolean };
}
export interface RunCancelledEvent {
  type: typeof EVENT.runCancelled;
  at: number;
  reason: string;
}

/** The runtime ends the run as failed, with `error`: it went past a limit the runtime enforces. */
export interface RunAbortedEvent {
  type: typeof EVENT.runAborted;
  at: number;
  error: { code: string; message: string };
}

/** Every event a run can receive after it started. */
export type FlowEvent =
  | MessageReceivedEvent
  | TimerFiredEvent
  | NodeCompletedEvent
  | NodeFailedEvent
  | RunCancelledEvent
  | RunAbortedEvent;

/** Builds a `message.received` event. */
export const messageReceived = (message: InboundMessage, at: number): MessageReceivedEvent => ({
  type: EVENT.messageReceived,
  at,
  message,
});
/** Builds a `timer.fired` event. */
export const timerFired = (timerId: string, at: number): TimerFiredEvent => ({ type: EVENT.timerFired, at, timerId });
/** Builds a `node.completed` event. */
export const nodeCompleted = (
  fields: Omit<NodeCompletedEvent, 'type'>,
): NodeCompletedEvent => ({ type: EVENT.nodeCompleted, ...fields });
/** Builds a `node.failed` event. */
export const nodeFailed = (fields: Omit<NodeFailedEvent, 'type'>): NodeFailedEvent => ({
  type: EVENT.nodeFailed,
  ...fields,
});
/** Builds a `run.cancelled` event. */
export const runCancelled = (reason: string, at: number): RunCancelledEvent => ({
  type: EVENT.runCancelled,
  at,
  reason,
});
export const runAborted = (error: RunAbortedEvent['error'], at: number): RunAbortedEvent => ({ type: EVENT.runAborted, at, error });
