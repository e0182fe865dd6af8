import type { JsonObject, JsonValue } from '../json.js';
import type { FlowDefinition } from '../flow/types.js';
import type { RunInput } from '../run.js';

/** A timer a waiting node scheduled: its own id, and the run-unique id the runtime schedules. */
export interface PendingTimer {
  /** The id the node chose (what it sees in `WaitState.timers` and `timer.fired`). */
  id: string;
  /** The id on the effect and on the `timer.fired` event: unique in the run. */
  key: string;
}

/** The progress of the node the run waits in. */
export interface WaitContext {
  nodeId: string;
  pendingSeqs: number[];
  timers: PendingTimer[];
  state: JsonValue;
  /** What the node said it waits for, when it said so. */
  for: 'reply' | 'timer' | 'effect' | null;
}

/** Why a run failed. */
export interface RunError {
  code: string;
  message: string;
  nodeId?: string;
}

/**
 * The machine's context: everything a run carries between steps. Plain JSON (no `undefined`), so
 * a snapshot survives `JSON.parse(JSON.stringify(...))` unchanged.
 *
 * @internal
 */
export interface RunContext {
  runId: string;
  startedAt: number;
  trigger: JsonObject;
  contact: JsonObject;
  vars: Record<string, JsonValue>;
  nodes: Record<string, JsonObject>;
  /** The last effect seq handed out; the next effect gets `seq + 1`. */
  seq: number;
  /** How many times each node was entered (feeds deterministic randomness). */
  visits: Record<string, number>;
  wait: WaitContext | null;
  /** The state the node just left for; `null` at rest. Read by the `always` guards. */
  next: string | null;
  /** Node entries since the run last rested in a wait (loop guard). */
  hops: number;
  error: RunError | null;
}

/**
 * Builds the context a run starts with: declared variable defaults overridden by `input.vars`.
 *
 * @internal
 */
export function initialContext(flow: FlowDefinition, input: RunInput): RunContext {
  const resume = input.resume;
  if (resume) {
    return {
      runId: input.runId,
      startedAt: resume.startedAt,
      trigger: input.trigger,
      contact: input.contact,
      vars: resume.vars,
      nodes: resume.nodes,
      seq: resume.seq,
      visits: resume.visits,
      wait: null,
      next: null,
      hops: 0,
      error: null,
    };
  }
  const vars: Record<string, JsonValue> = {};
  for (const variable of flow.variables) {
    if (variable.default !== undefined) vars[variable.name] = variable.default;
  }
  if (input.vars) Object.assign(vars, input.vars);
  return {
    runId: input.runId,
    startedAt: input.at,
    trigger: input.trigger,
    contact: input.contact,
    vars,
    nodes: {},
    seq: 0,
    visits: {},
    wait: null,
    next: null,
    hops: 0,
    error: null,
  };
}
