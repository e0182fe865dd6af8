export type { ConditionRule, ConditionLeaf, ConditionAll, ConditionAny, ConditionNot, ConditionOperator, EvaluateOptions } from './types.js';
export { CONDITION_OPERATORS, CONDITION_OPERATOR_INFO, MAX_PATTERN_LENGTH } from './operators.js';
export type { ConditionValueKind } from './operators.js';
export { evaluateCondition, MAX_CONDITION_DEPTH } from './evaluate.js';
export { conditionFields } from './condition-fields.js';
export { conditionRuleSchema, conditionRuleRef, CONDITION_RULE_ANCHOR } from './condition-rule-schema.js';
export { ConditionError } from './condition-error.js';
export { readPath } from './read-path.js';
