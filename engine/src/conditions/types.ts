import type { JsonValue } from '../json.js';
import type { CONDITION_OPERATORS } from './operators.js';

/** A comparison operator of the condition DSL; see `CONDITION_OPERATORS`. */
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/**
 * One comparison: read `field` (a dotted path into the template scope, e.g. `contact.city`,
 * `vars.total`, `trigger.message.text`, `nodes.ask_1.answer`) and compare it with `value`.
 * String comparisons ignore case unless `caseSensitive` is true.
 */
export interface ConditionLeaf {
  field: string;
  operator: ConditionOperator;
  /** Absent for `is_set` / `is_not_set`; a list (or comma-separated string) for `in_list`. */
  value?: JsonValue;
  caseSensitive?: boolean;
}

/** True when every rule is true (an empty list is true). */
export interface ConditionAll {
  all: ConditionRule[];
}
/** True when at least one rule is true (an empty list is false). */
export interface ConditionAny {
  any: ConditionRule[];
}
/** True when the rule is false. */
export interface ConditionNot {
  not: ConditionRule;
}

/** A condition: a comparison, or an `all` / `any` group, or a negation. Plain JSON, never code. */
export type ConditionRule = ConditionAll | ConditionAny | ConditionNot | ConditionLeaf;

/** Inputs a rule may need beyond the scope. */
export interface EvaluateOptions {
  /**
   * The current time in epoch ms: lets `before` / `after` compare with the value `"now"`.
   * Without it, a comparison with `"now"` is false (the engine never reads a clock).
   */
  now?: number;
}
