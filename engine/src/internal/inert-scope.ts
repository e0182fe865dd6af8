import type { AnyActorScope, ExecutableActionObject } from 'xstate';
import type { Effect } from '../effects.js';
import type { JsonObject } from '../json.js';
import type { PathStep } from '../run.js';

/** The action types the compiled machine hands to its executor: its only outputs besides context. */
export const ACTION = {
  effect: 'cf.effect',
  path: 'cf.path',
  contact: 'cf.contact',
} as const;

/**
 * What one `start`/`step` call produced besides the next snapshot: filled by the inert scope's
 * action executor, reset at the start of every call.
 *
 * @internal
 */
export interface StepRecorder {
  effects: Effect[];
  path: PathStep[];
  contactChanges: JsonObject | undefined;
  reset(): void;
}

/**
 * Builds the recorder and the inert actor scope a compiled machine is stepped with. The scope
 * performs nothing: no children, no delayed events, no inspection; its executor only records the
 * `cf.*` actions, which is what keeps `start`/`step` pure.
 *
 * @internal
 */
export function createInertScope(): { scope: AnyActorScope; recorder: StepRecorder } {
  const recorder: StepRecorder = {
    effects: [],
    path: [],
    contactChanges: undefined,
    reset() {
      this.effects = [];
      this.path = [];
      this.contactChanges = undefined;
    },
  };
  const noop = (): void => {};
  const system = {
    _sendInspectionEvent: noop,
    _bookId: () => 'cf',
    _register: noop,
    _unregister: noop,
    _set: noop,
    _relay: noop,
    get: () => undefined,
    inspect: () => ({ unsubscribe: noop }),
    start: noop,
    scheduler: { schedule: noop, cancel: noop, cancelAll: noop },
    getSnapshot: () => ({ _scheduledEvents: {} }),
    _clock: { setTimeout: () => 0, clearTimeout: noop },
    _logger: noop,
  };
  // The machine never sends to, spawns from or stops `self`; it only needs to exist.
  const self = {
    id: 'cf',
    sessionId: 'cf',
    send: noop,
    start: noop,
    stop: noop,
    getSnapshot: () => undefined,
    getPersistedSnapshot: () => undefined,
    subscribe: () => ({ unsubscribe: noop }),
    on: () => ({ unsubscribe: noop }),
    system,
    src: 'cf',
    _parent: undefined,
  };
  const actionExecutor = (action: ExecutableActionObject): void => {
    switch (action.type) {
      case ACTION.effect:
        recorder.effects.push(action.params as Effect);
        break;
      case ACTION.path:
        for (const step of action.params as PathStep[]) recorder.path.push(step);
        break;
      case ACTION.contact:
        recorder.contactChanges = { ...recorder.contactChanges, ...(action.params as JsonObject) };
        break;
      default:
        break;
    }
  };
  const scope = {
    self,
    id: 'cf',
    sessionId: 'cf',
    logger: noop,
    defer: noop,
    emit: noop,
    system,
    stopChild: noop,
    actionExecutor,
  } as unknown as AnyActorScope;
  return { scope, recorder };
}
