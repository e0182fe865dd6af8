/** Every operator of the condition DSL, in the order the designer offers them. */
export const CONDITION_OPERATORS = [
  'equals',
  'not_equals',
  'contains',
  'not_contains',
  'starts_with',
  'ends_with',
  'matches',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_set',
  'is_not_set',
  'in_list',
  'not_in_list',
  'before',
  'after',
] as const;

/** What an operator expects as its `value`, so a designer can pick the right input. */
export type ConditionValueKind = 'none' | 'text' | 'number' | 'list' | 'pattern' | 'date';

/** A human label and value kind per operator. */
export const CONDITION_OPERATOR_INFO: Readonly<
  Record<(typeof CONDITION_OPERATORS)[number], { label: string; value: ConditionValueKind }>
> = {
  equals: { label: 'is', value: 'text' },
  not_equals: { label: 'is not', value: 'text' },
  contains: { label: 'contains', value: 'text' },
  not_contains: { label: 'does not contain', value: 'text' },
  starts_with: { label: 'starts with', value: 'text' },
  ends_with: { label: 'ends with', value: 'text' },
  matches: { label: 'matches pattern', value: 'pattern' },
  gt: { label: 'is greater than', value: 'number' },
  gte: { label: 'is at least', value: 'number' },
  lt: { label: 'is less than', value: 'number' },
  lte: { label: 'is at most', value: 'number' },
  is_set: { label: 'is set', value: 'none' },
  is_not_set: { label: 'is not set', value: 'none' },
  in_list: { label: 'is one of', value: 'list' },
  not_in_list: { label: 'is none of', value: 'list' },
  before: { label: 'is before', value: 'date' },
  after: { label: 'is after', value: 'date' },
};

/** The longest regular expression `matches` accepts; longer patterns never match. */
export const MAX_PATTERN_LENGTH = 256;
