import type { JsonSchema } from '../catalogue/types.js';
import { CONDITION_OPERATORS, MAX_PATTERN_LENGTH } from './operators.js';

/** The anchor name of `conditionRuleSchema`; a designer can spot a rule param by it. */
export const CONDITION_RULE_ANCHOR = 'convoflowConditionRule';
const self = `#${CONDITION_RULE_ANCHOR}`;

const scalar: JsonSchema[] = [{ type: 'string', maxLength: 1000 }, { type: 'number' }, { type: 'boolean' }];
const listValue: JsonSchema = { type: 'array', maxItems: 500, items: { anyOf: scalar } };
const valueRequired = (operators: readonly string[], value: JsonSchema): JsonSchema => ({
  if: { properties: { operator: { enum: [...operators] } } },
  then: { required: ['value'], properties: { value } },
});

/**
 * JSON Schema (2020-12) of a condition rule, to embed as the schema of a node param. It names
 * itself with an anchor and recurses through `$ref: '#convoflowConditionRule'`, so it works
 * wherever it is placed (no root `$defs` to copy) and compiles under Ajv2020 strict mode.
 *
 * The anchor is a `$dynamicAnchor` only because Ajv 8 treats a plain `$anchor` as an unknown
 * keyword in strict mode; it is reached by a static `$ref`, which 2020-12 allows. An anchor must
 * be unique in a schema: embed this once per params schema and point further rule params at it
 * with `conditionRuleRef`.
 *
 * @example
 * params: { type: 'object', properties: { rules: conditionRuleSchema }, required: ['rules'] }
 */
export const conditionRuleSchema: JsonSchema = {
  $dynamicAnchor: CONDITION_RULE_ANCHOR,
  title: 'Condition',
  oneOf: [
    {
      type: 'object',
      description: 'True when every rule is true.',
      properties: { all: { type: 'array', maxItems: 100, items: { $ref: self } } },
      required: ['all'],
      additionalProperties: false,
    },
    {
      type: 'object',
      description: 'True when at least one rule is true.',
      properties: { any: { type: 'array', maxItems: 100, items: { $ref: self } } },
      required: ['any'],
      additionalProperties: false,
    },
    {
      type: 'object',
      description: 'True when the rule is false.',
      properties: { not: { $ref: self } },
      required: ['not'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        field: {
          type: 'string',
          description: 'A dotted path: contact.x, vars.x, trigger.message.text, nodes.<id>.x',
          minLength: 1,
          maxLength: 200,
          pattern: '^[A-Za-z_$][\\w$-]*(\\.[\\w$-]+)*$',
        },
        operator: { enum: [...CONDITION_OPERATORS] },
        value: { anyOf: [...scalar, { type: 'null' }, listValue] },
        caseSensitive: { type: 'boolean', default: false },
      },
      required: ['field', 'operator'],
      additionalProperties: false,
      allOf: [
        valueRequired(['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'ends_with'], {
          anyOf: [...scalar, { type: 'null' }],
        }),
        valueRequired(['matches'], { type: 'string', maxLength: MAX_PATTERN_LENGTH, format: 'regex' }),
        valueRequired(['gt', 'gte', 'lt', 'lte', 'before', 'after'], {
          anyOf: [{ type: 'number' }, { type: 'string', maxLength: 100 }],
        }),
        valueRequired(['in_list', 'not_in_list'], { anyOf: [{ type: 'string', maxLength: 1000 }, listValue] }),
      ],
    },
  ],
};

/** A `$ref` to `conditionRuleSchema`, for a second rule param in a schema that embeds it once. */
export const conditionRuleRef: JsonSchema = { $ref: self };
