import type { JsonValue } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';
import { convertValue, type ValueConversion } from './convert-value.js';

/** One assignment of `set_variable`. */
export interface Assignment {
  variable: string;
  /** A template (rendered before the node runs) or a typed literal. */
  value: JsonValue;
  /** How to read a text value: kept as text (default), or as a number, boolean or JSON. */
  as?: ValueConversion;
}

/** Params of `set_variable`. */
export interface SetVariableParams {
  assignments: Assignment[];
}

/**
 * Set variable: stores values in flow variables, in order. Pure; leaves by `next`. A text value
 * that does not convert to its `as` type is stored as `null` and listed in `nodes.<id>.invalid`.
 */
export const setVariableNode = defineNode<SetVariableParams>({
  type: 'set_variable',
  typeVersion: 1,
  kind: 'pure',
  category: 'data',
  title: 'Set variable',
  description:
    'Saves values into flow variables, for example a fixed text, a number, or something built from the contact and earlier answers, such as "{{contact.firstName}} from {{contact.city}}".',
  icon: 'variable',
  params: {
    type: 'object',
    properties: {
      assignments: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        items: {
          type: 'object',
          properties: {
            variable: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
            value: {
              anyOf: [
                { type: 'string', format: 'template', maxLength: 10_000 },
                { type: 'number' },
                { type: 'boolean' },
                { type: 'null' },
                { type: 'array' },
                { type: 'object' },
              ],
            },
            as: { enum: ['string', 'number', 'boolean', 'json'], default: 'string' },
          },
          required: ['variable', 'value'],
          additionalProperties: false,
        },
      },
    },
    required: ['assignments'],
    additionalProperties: false,
  },
  outputs: ['next'],
  writesVariables: ['assignments.variable'],
  resolve: ({ params }) => {
    const vars: Record<string, JsonValue> = {};
    const invalid: string[] = [];
    for (const { variable, value, as } of params.assignments) {
      const converted = convertValue(value, as ?? 'string');
      if (converted === undefined) invalid.push(variable);
      vars[variable] = converted ?? null;
    }
    return { output: 'next', set: { vars }, ...(invalid.length ? { data: { invalid } } : {}) };
  },
});
