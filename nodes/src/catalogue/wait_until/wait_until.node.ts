import { EVENT } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';
import { NodeParamsError } from '../../errors.js';
import { isTimeZone, parseDateTime } from '../../internal/zoned-time.js';
import { nextOpening, type BusinessHours } from './business-hours.js';

/** Params of `wait_until`. */
export interface WaitUntilParams {
  mode: 'date' | 'business_hours';
  /** For `date`: an ISO date or date-time (rendered from a template); without offset it is local to `timezone`. */
  date?: string;
  /** IANA zone (default `UTC`). */
  timezone?: string;
  /** For `business_hours`. */
  businessHours?: BusinessHours;
}

const TIMER = 'wait_until';
const HHMM = '^([01]\\d|2[0-3]):[0-5]\\d$';

/**
 * Wait until: waits, durably, until a date or until business hours open, then leaves by `done`.
 * Leaves at once when the date has passed or business is open. Records `nodes.<id>.dueAt`.
 */
export const waitUntilNode = defineNode<WaitUntilParams>({
  type: 'wait_until',
  typeVersion: 1,
  kind: 'wait',
  category: 'timing',
  title: 'Wait until',
  description:
    'Waits until a date and time (for example the day before an appointment) or until your business hours open, then continues. If that moment has already come, it continues straight away.',
  icon: 'calendar-clock',
  params: {
    type: 'object',
    properties: {
      mode: { enum: ['date', 'business_hours'], default: 'business_hours' },
      date: { type: 'string', format: 'template', maxLength: 500 },
      timezone: { type: 'string', minLength: 1, maxLength: 64, default: 'UTC' },
      businessHours: {
        type: 'object',
        properties: {
          days: {
            type: 'array',
            description: 'Open days: 1 Monday ... 7 Sunday.',
            items: { type: 'integer', minimum: 1, maximum: 7 },
            minItems: 1,
            maxItems: 7,
            uniqueItems: true,
          },
          start: { type: 'string', pattern: HHMM },
          end: { type: 'string', pattern: HHMM },
        },
        required: ['days', 'start', 'end'],
        additionalProperties: false,
      },
    },
    required: ['mode'],
    additionalProperties: false,
    allOf: [
      { if: { properties: { mode: { const: 'date' } } }, then: { required: ['date'], properties: { date: { type: 'string', minLength: 1 } } } },
      { if: { properties: { mode: { const: 'business_hours' } } }, then: { required: ['businessHours'], properties: { businessHours: { type: 'object' } } } },
    ],
  },
  outputs: ['done'],
  enter: ({ params, now }) => {
    const timeZone = params.timezone ?? 'UTC';
    if (!isTimeZone(timeZone)) throw new NodeParamsError('timezone', `"${timeZone}" is not a known time zone (use a name such as Asia/Singapore)`);
    let dueAt: number | undefined;
    if (params.mode === 'date') {
      dueAt = parseDateTime(params.date ?? '', timeZone);
      if (dueAt === undefined) throw new NodeParamsError('date', `"${params.date ?? ''}" is not a date such as 2025-03-01 or 2025-03-01T09:00`);
    } else {
      if (!params.businessHours) throw new NodeParamsError('businessHours', 'are required in business_hours mode');
      dueAt = nextOpening(now, params.businessHours, timeZone);
      if (dueAt === undefined) throw new NodeParamsError('businessHours', 'name no open day');
    }
    if (dueAt <= now) return { type: 'leave', output: 'done', data: { dueAt: now } };
    return { type: 'stay', effects: [{ type: 'scheduleTimer', timerId: TIMER, dueAt }], waitingFor: 'timer', data: { dueAt } };
  },
  on: (_ctx, event) =>
    event.type === EVENT.timerFired && event.timerId === TIMER ? { type: 'leave', output: 'done' } : { type: 'ignore' },
});
