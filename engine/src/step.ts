import type { AnyMachineSnapshot } from 'xstate';
import type { FlowEvent } from './events.js';
import { EVENT } from './events.js';
import type { RunInput, RunSnapshot, RunWaiting, StepResult } from './run.js';
import type { CompiledFlow } from './compile/compiled-flow.js';
import { FINAL } from './compile/compiled-flow.js';
import type { RunContext } from './compile/run-context.js';

const EVENT_TYPES = new Set<string>(Object.values(EVENT));

/**
 * Starts a run: enters the flow's entry node and runs until the run waits (for a reply, a timer
 * or an effect's outcome) or ends. The result carries the snapshot to store and the effects the
 * runtime must perform.
 *
 * Pure: no I/O; does not execute effects. Time comes from `input.at`.
 *
 * @example
 * const compiled = compile(flow, catalogue);
 * const result = start(compiled, { runId: 'run-1', at: 1_700_000_000_000, trigger: {}, contact: { name: 'Ada' } });
 * // result.effects: [{ type: 'sendMessage', seq: 1, nodeId: 'welcome', message: { kind: 'text', text: 'Hi Ada' } }]
 */
export function start(compiled: CompiledFlow, input: RunInput): StepResult {
  const { machine, runtime } = compiled;
  runtime.recorder.reset();
  const next = machine.getInitialSnapshot(runtime.scope, input) as AnyMachineSnapshot;
  if (next.status === 'error') throw next.error;
  return resultOf(compiled, next.value as string, next.status, next.context as RunContext, false);
}

/**
 * Takes one step of a run: delivers `event` to the node the run waits in, then runs until the run
 * waits again or ends. Events nothing waits for (a stale or duplicate effect outcome, an unknown
 * timer, a reply to a node that asks nothing, anything sent to a finished run) change nothing and
 * come back with `ignored: true` and the same snapshot.
 *
 * `path` lists the nodes entered in this step with the output each left by; a wait node the step
 * resumed comes first, with the output it left by. Jump nodes show the output `jump`, end nodes `end`.
 *
 * Pure: no I/O; does not execute effects. Time comes from `event.at`. A snapshot restored from
 * `JSON.parse(JSON.stringify(snapshot))` behaves exactly like the original.
 *
 * @throws Error when `snapshot` is not a snapshot of this compiled flow.
 * @example
 * let result = start(compiled, input);
 * result = step(compiled, result.snapshot, nodeCompleted({ nodeId: 'welcome', seq: 1, output: 'sent', at }));
 */
export function step(compiled: CompiledFlow, snapshot: RunSnapshot, event: FlowEvent): StepResult {
  const { value, status, context } = readSnapshot(compiled, snapshot);
  if (status !== 'active' || !isFlowEvent(event)) return resultOf(compiled, value, status, context, true, snapshot);
  const { machine, runtime } = compiled;
  const current = machine.resolveState({ value, context }) as AnyMachineSnapshot;
  runtime.recorder.reset();
  const next = machine.transition(current, event, runtime.scope) as AnyMachineSnapshot;
  if (next === current) return resultOf(compiled, value, status, context, true, snapshot);
  if (next.status === 'error') throw next.error;
  return resultOf(compiled, next.value as string, next.status, next.context as RunContext, false);
}

function isFlowEvent(event: unknown): event is FlowEvent {
  return typeof event === 'object' && event !== null && EVENT_TYPES.has((event as { type?: unknown }).type as string);
}

function readSnapshot(compiled: CompiledFlow, snapshot: RunSnapshot): { value: string; status: string; context: RunContext } {
  const { value, status, context } = snapshot as { value?: unknown; status?: unknown; context?: unknown };
  const known = typeof value === 'string' && (compiled.nodesByKey.has(value) || value === FINAL.done || value === FINAL.failed || value === FINAL.cancelled);
  if (!known || typeof status !== 'string' || typeof context !== 'object' || context === null) {
    throw new Error(`Not a run snapshot of flow "${compiled.flow.id}": unknown state ${JSON.stringify(value)}`);
  }
  return { value, status, context: context as RunContext };
}

function resultOf(
  compiled: CompiledFlow,
  value: string,
  xstateStatus: string,
  context: RunContext,
  ignored: boolean,
  previous?: RunSnapshot,
): StepResult {
  const snapshot = previous ?? ({ value, status: xstateStatus, context } as unknown as RunSnapshot);
  const recorder = compiled.runtime.recorder;
  const result: StepResult = {
    snapshot,
    effects: ignored ? [] : recorder.effects,
    status: 'running',
    path: ignored ? [] : recorder.path,
    vars: context.vars,
    contact: context.contact,
  };
  if (ignored) result.ignored = true;
  else if (recorder.contactChanges) result.contactChanges = recorder.contactChanges;
  switch (value) {
    case FINAL.done:
      result.status = 'done';
      result.outcome = 'completed';
      return result;
    case FINAL.cancelled:
      result.status = 'done';
      result.outcome = 'cancelled';
      return result;
    case FINAL.failed:
      result.status = 'failed';
      result.outcome = 'failed';
      if (context.error) result.error = { ...context.error };
      return result;
  }
  const wait = context.wait;
  const cn = compiled.nodesByKey.get(value);
  const nodeId = wait?.nodeId ?? cn?.node.id ?? value;
  let waiting: RunWaiting;
  if (wait && wait.pendingSeqs.length > 0) {
    waiting = { nodeId, for: 'effect' };
  } else {
    result.status = 'waiting';
    const said = wait?.for;
    waiting = { nodeId, for: said === 'reply' || said === 'timer' ? said : cn?.waitsForReply ? 'reply' : 'timer' };
  }
  result.waiting = waiting;
  return result;
}

