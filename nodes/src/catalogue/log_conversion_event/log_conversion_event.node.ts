import type { JsonObject } from '@convoflow/engine';
import { actionNode } from '../../helpers/action-node.js';

/** Params of `log_conversion_event`, as rendered. */
export interface LogConversionEventParams {
  name: string;
  /** A number, or a template rendering to one (e.g. `{{vars.orderTotal}}`). */
  value?: number | string;
  /** ISO 4217 code, e.g. `SGD`. */
  currency?: string;
}

/**
 * Log conversion event: records that the contact converted (a purchase, a sign-up) for conversion
 * analytics. `execute` does no I/O: it validates the event and returns it as `data`
 * (`{name, value, currency}`) on output `logged`; the runtime's analytics module records the data
 * of every completed `log_conversion_event` effect. A value that is not a number leaves by
 * `failed`.
 */
export const logConversionEventNode = actionNode<LogConversionEventParams>({
  type: 'log_conversion_event',
  typeVersion: 1,
  category: 'data',
  title: 'Log conversion',
  description:
    'Records a conversion, such as "purchase" with its value, so it shows up in your conversion reports by flow, channel and team.',
  icon: 'target',
  params: {
    type: 'object',
    properties: {
      name: { type: 'string', format: 'template', minLength: 1, maxLength: 100 },
      value: { anyOf: [{ type: 'number' }, { type: 'string', format: 'template', maxLength: 200 }] },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  outputs: ['logged', 'failed'],
  failureOutput: 'failed',
  execute: async (_ctx, params) => {
    const name = params.name.trim();
    if (name === '') return { output: 'failed', data: { error: { code: 'invalid_name', message: 'the event name is empty' } } };
    let value: number | null = null;
    const raw = typeof params.value === 'string' ? params.value.trim() : params.value;
    if (raw !== undefined && raw !== '') {
      value = Number(raw);
      if (!Number.isFinite(value)) {
        return { output: 'failed', data: { error: { code: 'invalid_value', message: `"${String(params.value)}" is not a number` } } };
      }
    }
    const data: JsonObject = { name, value, currency: params.currency ?? null };
    return { output: 'logged', data };
  },
});
