import type { JsonValue } from '@convoflow/engine';

/** How `set_variable` reads a text value. */
export type ValueConversion = 'string' | 'number' | 'boolean' | 'json';

/**
 * Converts a rendered text value to the asked type; non-text values pass through unchanged.
 *
 * Pure.
 *
 * @returns the value, or `undefined` when the text does not convert.
 */
export function convertValue(value: JsonValue, as: ValueConversion): JsonValue | undefined {
  if (typeof value !== 'string' || as === 'string') return value;
  const text = value.trim();
  switch (as) {
    case 'number': {
      const n = text === '' ? NaN : Number(text);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', 'yes', '1'].includes(lower)) return true;
      if (['false', 'no', '0', ''].includes(lower)) return false;
      return undefined;
    }
    case 'json':
      try {
        return JSON.parse(text) as JsonValue;
      } catch {
        return undefined;
      }
  }
}
