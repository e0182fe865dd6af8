import type { ConditionRule } from './types.js';

/**
 * Lists the fields a rule reads, each once, in the order they appear: for the validator's
 * undeclared-variable check and the designer's "used by" view. Tolerates malformed rules.
 *
 * Pure.
 *
 * @example
 * conditionFields({ any: [{ field: 'vars.a', operator: 'is_set' }, { not: { field: 'contact.b', operator: 'is_set' } }] })
 * // ['vars.a', 'contact.b']
 */
export function conditionFields(rule: ConditionRule): string[] {
  const found = new Set<string>();
  const visit = (node: unknown, depth: number): void => {
    if (depth > 64 || node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.all)) record.all.forEach((child) => visit(child, depth + 1));
    if (Array.isArray(record.any)) record.any.forEach((child) => visit(child, depth + 1));
    if ('not' in record) visit(record.not, depth + 1);
    if (typeof record.field === 'string' && record.field !== '') found.add(record.field);
  };
  visit(rule, 0);
  return [...found];
}
