/**
 * How deep a request body may nest. JSON.parse takes thousands of levels, but the code a body then
 * passes through (ajv, templates, JSON.stringify inside a store transaction) recurses, and would
 * run out of stack on a body no client means to send. Flows, contacts and webhook payloads nest a
 * handful of levels; 64 leaves room for any honest one.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The JSON pointer of the first value nested deeper than `max` levels, or undefined when `value`
 * stays within them. The top-level value is level 0. Walks without recursion, so the check itself
 * cannot overflow the stack it guards.
 *
 * @example
 * tooDeepAt({ a: { b: [1] } }, 1); // '/a/b'
 */
export function tooDeepAt(value: unknown, max: number = MAX_JSON_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; depth: number; pointer: string }> = [{ value, depth: 0, pointer: '' }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > max) return item.pointer;
    for (const [key, child] of Object.entries(item.value)) {
      if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, depth: item.depth + 1, pointer: `${item.pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` });
      }
    }
  }
  return undefined;
}
