import { conditionRuleSchema, evaluateCondition, type ConditionRule } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';

/** Params of `condition`. */
export interface ConditionParams {
  rules: ConditionRule;
}

/**
 * Condition: branches on a rule over contact fields, variables, the trigger and earlier nodes'
 * results. Pure; leaves by `true` or `false`, and records `nodes.<id>.result`.
 */
export const conditionNode = defineNode<ConditionParams>({
  type: 'condition',
  typeVersion: 1,
  kind: 'pure',
  category: 'logic',
  title: 'Condition',
  description:
    'Checks something about the contact or the conversation (for example "country is Singapore and cart total is at least 100") and continues on the True or False path.',
  icon: 'git-branch',
  params: {
    type: 'object',
    properties: { rules: conditionRuleSchema },
    required: ['rules'],
    additionalProperties: false,
  },
  outputs: ['true', 'false'],
  resolve: ({ params, scope, now }) => {
    const result = evaluateCondition(params.rules, scope, { now });
    return { output: result ? 'true' : 'false', data: { result } };
  },
});
