import type { TemplateScope } from '../catalogue/types.js';
import type { ConditionLeaf, ConditionRule, EvaluateOptions } from './types.js';
import { CONDITION_OPERATORS } from './operators.js';
import { ConditionError } from './condition-error.js';
import { compare } from './compare.js';
import { readPath } from './read-path.js';

/** The deepest nesting of groups a rule may have; deeper rules are rejected, not recursed. */
export const MAX_CONDITION_DEPTH = 32;

const OPERATORS = new Set<string>(CONDITION_OPERATORS);
// Rules come from compiled flow params and are evaluated again on every visit: check each once.
const checked = new WeakSet<object>();

/**
 * Evaluates a condition rule against a template scope. Never evaluates code: fields are dotted
 * paths, operators a fixed list. An invalid `matches` pattern is simply false.
 *
 * Pure: the result depends only on the arguments.
 *
 * @param rule the rule, as stored in node params (validated against `conditionRuleSchema`).
 * @param scope what the rule can read: `contact.*`, `vars.*`, `trigger.*`, `nodes.<id>.*`, `run.*`.
 * @param options `now` (epoch ms) for comparisons with the value `"now"`.
 * @throws ConditionError when the rule is malformed anywhere (unknown operator, missing field,
 *   nested too deep), whatever the data, so a bad rule never passes by short-circuit.
 * @example
 * evaluateCondition(
 *   { all: [{ field: 'contact.country', operator: 'equals', value: 'SG' },
 *           { field: 'vars.cartTotal', operator: 'gte', value: 100 }] },
 *   scope,
 * ) // true for a Singapore contact with a cart of 120
 */
export function evaluateCondition(rule: ConditionRule, scope: TemplateScope, options: EvaluateOptions = {}): boolean {
  if (!checked.has(rule)) {
    checkRule(rule, '', 0);
    checked.add(rule);
  }
  return evaluate(rule, scope, options);
}

function evaluate(rule: ConditionRule, scope: TemplateScope, options: EvaluateOptions): boolean {
  if ('all' in rule) return rule.all.every((child) => evaluate(child, scope, options));
  if ('any' in rule) return rule.any.some((child) => evaluate(child, scope, options));
  if ('not' in rule) return !evaluate(rule.not, scope, options);
  return compare(rule.operator, readPath(scope, rule.field), rule.value, {
    caseSensitive: rule.caseSensitive === true,
    now: options.now,
  });
}

function checkRule(rule: unknown, path: string, depth: number): void {
  if (depth > MAX_CONDITION_DEPTH) throw new ConditionError(`rule nested deeper than ${MAX_CONDITION_DEPTH}`, path);
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
    throw new ConditionError('a rule must be an object', path);
  }
  const record = rule as Record<string, unknown>;
  for (const key of ['all', 'any'] as const) {
    if (!(key in record)) continue;
    const children = record[key];
    if (!Array.isArray(children)) throw new ConditionError('a group must hold a list of rules', `${path}/${key}`);
    children.forEach((child, i) => checkRule(child, `${path}/${key}/${i}`, depth + 1));
    return;
  }
  if ('not' in record) return checkRule(record.not, `${path}/not`, depth + 1);
  checkLeaf(record as Partial<ConditionLeaf>, path);
}

function checkLeaf(leaf: Partial<ConditionLeaf>, path: string): void {
  if (typeof leaf.field !== 'string' || leaf.field === '') {
    throw new ConditionError('a comparison needs a field', `${path}/field`);
  }
  if (typeof leaf.operator !== 'string' || !OPERATORS.has(leaf.operator)) {
    throw new ConditionError(`unknown operator ${JSON.stringify(leaf.operator)}`, `${path}/operator`);
  }
}
