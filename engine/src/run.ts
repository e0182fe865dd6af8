import type { JsonObject, JsonValue } from './json.js';
import type { Effect } from './effects.js';

/** Where a run is: executing (awaiting an effect outcome), waiting (reply or timer), or finished. */
export type RunStatus = 'running' | 'waiting' | 'done' | 'failed';

/** How a finished run ended. */
export type RunOutcome = 'completed' | 'cancelled' | 'failed';

/** What a run starts with. `at` is the start time in epoch ms: the engine never reads a clock. */
export interface RunInput {
  runId: string;
  at: number;
  trigger: JsonObject;
  contact: JsonObject;
  /** Initial values of variables; declared defaults fill the rest. */
  vars?: Record<string, JsonValue>;
  /**
   * Carries a failed run's state into a retry (see `retry`): its variables, node data, effect
   * counter and visit counts continue, so new effects get fresh idempotency keys.
   * @internal
   */
  resume?: {
    startedAt: number;
    vars: Record<string, JsonValue>;
    nodes: Record<string, JsonObject>;
    seq: number;
    visits: Record<string, number>;
  };
}

/** A node the run passed through in one step, and the output it left by. */
export interface PathStep {
  nodeId: string;
  /** Absent while the run is still waiting in this node. */
  output?: string;
  at: number;
}

/** A persisted run state: plain JSON, safe to store and restore. */
export type RunSnapshot = JsonObject;

/** What a run is waiting for, when `status` is `waiting` or `running`. */
export interface RunWaiting {
  nodeId: string;
  for: 'reply' | 'timer' | 'effect';
}

/** The result of `start` or `step`: the next snapshot and the effects the runtime must perform. */
export interface StepResult {
  snapshot: RunSnapshot;
  effects: Effect[];
  status: RunStatus;
  path: PathStep[];
  waiting?: RunWaiting;
  outcome?: RunOutcome;
  error?: { code: string; message: string; nodeId?: string };
  /** Variables and contact fields as they are after this step. */
  vars: Record<string, JsonValue>;
  contact: JsonObject;
  /** Contact fields changed in this step, for the runtime to save to the CRM. */
  contactChanges?: JsonObject;
  /** True when the event was not addressed to anything the run waits for and changed nothing. */
  ignored?: boolean;
}
