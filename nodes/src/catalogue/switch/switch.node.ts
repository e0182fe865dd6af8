import { conditionRuleSchema, evaluateCondition, type ConditionRule } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';

/** One path of a `switch`. */
export interface SwitchCase {
  id: string;
  label?: string;
  rule: ConditionRule;
}

/** Params of `switch`. */
export interface SwitchParams {
  cases: SwitchCase[];
}

/**
 * Switch: tries its cases in order and leaves by the id of the first whose rule holds, else by
 * `default`. Pure; records `nodes.<id>.matched` (the case id, or null).
 */
export const switchNode = defineNode<SwitchParams>({
  type: 'switch',
  typeVersion: 1,
  kind: 'pure',
  category: 'logic',
  title: 'Switch',
  description:
    'Sends the contact down the first matching path, checked from top to bottom (for example by country or plan), or down Default when none matches.',
  icon: 'split',
  params: {
    type: 'object',
    properties: {
      cases: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', not: { const: 'default' } },
            label: { type: 'string', maxLength: 100 },
            rule: conditionRuleSchema,
          },
          required: ['id', 'rule'],
          additionalProperties: false,
        },
      },
    },
    required: ['cases'],
    additionalProperties: false,
  },
  outputs: { fixed: ['default'], fromParam: { param: 'cases', key: 'id' }, position: 'before' },
  resolve: ({ params, scope, now }) => {
    const matched = params.cases.find((c) => evaluateCondition(c.rule, scope, { now }));
    return { output: matched ? matched.id : 'default', data: { matched: matched ? matched.id : null } };
  },
});
