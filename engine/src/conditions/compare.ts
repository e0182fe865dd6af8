import type { JsonValue } from '../json.js';
import type { ConditionOperator } from './types.js';
import { MAX_PATTERN_LENGTH } from './operators.js';
import { isEmpty, toNumber, toText, toTime } from './coerce.js';
import { matchesUserPattern } from '../patterns/user-pattern.js';

type Value = JsonValue | undefined;

/** What a comparison needs besides the two values. */
export interface CompareContext {
  caseSensitive: boolean;
  now: number | undefined;
}

// Matching is linear in the subject (RE2); long subjects are cut so its cost has a bound too.
const MAX_SUBJECT_LENGTH = 10_000;

/**
 * Applies one operator. Negated operators are the exact negation of their positive twin, so
 * `not_equals` on a missing field is true.
 */
export function compare(operator: ConditionOperator, actual: Value, expected: Value, ctx: CompareContext): boolean {
  switch (operator) {
    case 'equals':
      return equals(actual, expected, ctx);
    case 'not_equals':
      return !equals(actual, expected, ctx);
    case 'contains':
      return contains(actual, expected, ctx);
    case 'not_contains':
      return !contains(actual, expected, ctx);
    case 'starts_with':
      return textTest(actual, expected, ctx, (a, e) => a.startsWith(e));
    case 'ends_with':
      return textTest(actual, expected, ctx, (a, e) => a.endsWith(e));
    case 'matches':
      return matches(actual, expected, ctx);
    case 'gt':
      return numberTest(actual, expected, (a, e) => a > e);
    case 'gte':
      return numberTest(actual, expected, (a, e) => a >= e);
    case 'lt':
      return numberTest(actual, expected, (a, e) => a < e);
    case 'lte':
      return numberTest(actual, expected, (a, e) => a <= e);
    case 'is_set':
      return !isEmpty(actual);
    case 'is_not_set':
      return isEmpty(actual);
    case 'in_list':
      return inList(actual, expected, ctx);
    case 'not_in_list':
      return !inList(actual, expected, ctx);
    case 'before':
      return timeTest(actual, expected, ctx, (a, e) => a < e);
    case 'after':
      return timeTest(actual, expected, ctx, (a, e) => a > e);
  }
}

function equals(actual: Value, expected: Value, ctx: CompareContext): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (actual === null || actual === undefined) return false;
  if (typeof actual === 'object' || typeof expected === 'object') {
    return JSON.stringify(actual) === JSON.stringify(expected);
  }
  // A number on either side compares numerically, so "42" equals 42 and "4.50" equals 4.5.
  if (typeof actual === 'number' || typeof expected === 'number') {
    const a = toNumber(actual);
    const e = toNumber(expected);
    if (a !== undefined && e !== undefined) return a === e;
  }
  const a = toText(actual, ctx.caseSensitive);
  const e = toText(expected, ctx.caseSensitive);
  return a !== undefined && a === e;
}

function contains(actual: Value, expected: Value, ctx: CompareContext): boolean {
  if (Array.isArray(actual)) return actual.some((item) => equals(item, expected, ctx));
  return textTest(actual, expected, ctx, (a, e) => a.includes(e));
}

function textTest(actual: Value, expected: Value, ctx: CompareContext, test: (a: string, e: string) => boolean): boolean {
  const a = toText(actual, ctx.caseSensitive);
  const e = toText(expected, ctx.caseSensitive);
  return a !== undefined && e !== undefined && test(a, e);
}

function numberTest(actual: Value, expected: Value, test: (a: number, e: number) => boolean): boolean {
  const a = toNumber(actual);
  const e = toNumber(expected);
  return a !== undefined && e !== undefined && test(a, e);
}

function timeTest(actual: Value, expected: Value, ctx: CompareContext, test: (a: number, e: number) => boolean): boolean {
  const a = timeOf(actual, ctx);
  const e = timeOf(expected, ctx);
  return a !== undefined && e !== undefined && test(a, e);
}

function timeOf(value: Value, ctx: CompareContext): number | undefined {
  if (typeof value === 'string' && value.trim().toLowerCase() === 'now') return ctx.now;
  return toTime(value);
}

function listOf(expected: Value): Value[] {
  if (Array.isArray(expected)) return expected;
  if (typeof expected === 'string') {
    return expected
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  return expected === undefined ? [] : [expected];
}

function inList(actual: Value, expected: Value, ctx: CompareContext): boolean {
  const list = listOf(expected);
  const candidates = Array.isArray(actual) ? actual : [actual];
  return candidates.some((candidate) => list.some((item) => equals(candidate, item, ctx)));
}

function matches(actual: Value, expected: Value, ctx: CompareContext): boolean {
  if (typeof expected !== 'string') return false;
  const subject = toText(actual, true);
  if (subject === undefined) return false;
  return matchesUserPattern(expected, subject.slice(0, MAX_SUBJECT_LENGTH), { caseSensitive: ctx.caseSensitive, maxLength: MAX_PATTERN_LENGTH });
}
