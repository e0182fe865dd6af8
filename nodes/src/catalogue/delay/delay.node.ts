import { EVENT } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';
import { NodeParamsError } from '../../errors.js';
import { ISO_DURATION_PATTERN, parseIsoDuration } from '@convoflow/engine';

/** Params of `delay`. */
export interface DelayParams {
  /** ISO-8601 duration: `PT30S`, `PT5M`, `PT2H`, `P1D`, `P1W`. */
  duration: string;
}

const TIMER = 'delay';

/**
 * Delay: waits a fixed time, durably (a scheduler timer, not process memory), then leaves by
 * `done`. A day is 24 hours. A zero duration leaves at once.
 */
export const delayNode = defineNode<DelayParams>({
  type: 'delay',
  typeVersion: 1,
  kind: 'wait',
  category: 'timing',
  title: 'Delay',
  description: 'Waits for a set time (for example 5 minutes or 1 day) before continuing.',
  icon: 'hourglass',
  params: {
    type: 'object',
    properties: { duration: { type: 'string', pattern: ISO_DURATION_PATTERN, default: 'PT5M' } },
    required: ['duration'],
    additionalProperties: false,
  },
  outputs: ['done'],
  enter: ({ params, now }) => {
    const ms = parseIsoDuration(params.duration);
    if (ms === undefined) throw new NodeParamsError('duration', `"${params.duration}" is not a duration such as PT5M`);
    if (ms === 0) return { type: 'leave', output: 'done' };
    const dueAt = now + ms;
    return { type: 'stay', effects: [{ type: 'scheduleTimer', timerId: TIMER, dueAt }], waitingFor: 'timer', data: { dueAt } };
  },
  on: (_ctx, event) =>
    event.type === EVENT.timerFired && event.timerId === TIMER ? { type: 'leave', output: 'done' } : { type: 'ignore' },
});
