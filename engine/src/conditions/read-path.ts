import type { JsonValue } from '../json.js';

/**
 * Reads a dotted path (`vars.order.items.0.sku`) from a JSON value. Only own properties are
 * followed, so `__proto__` or `constructor` read nothing. Array items are addressed by index.
 *
 * Pure.
 *
 * @returns the value, or `undefined` when any segment is missing.
 * @example
 * readPath({ vars: { order: { total: 12 } } }, 'vars.order.total') // 12
 */
export function readPath(root: unknown, path: string): JsonValue | undefined {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, segment)) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return undefined;
    }
  }
  return current as JsonValue | undefined;
}
