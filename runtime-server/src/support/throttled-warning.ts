import type { JsonObject } from '@convoflow/engine';

/** How often a throttled warning is written at most. */
export const THROTTLED_WARNING_EVERY_MS = 10_000;

/**
 * A warning for something that repeats while a condition lasts (work put off because the store
 * cannot write, say): written at most every THROTTLED_WARNING_EVERY_MS, with how many times it
 * happened since the last one (`times`), instead of once per retry. On a full disk those lines
 * would land on the same disk.
 */
export function throttledWarning(
  message: string,
  now: () => number,
  log: (level: 'warn', message: string, data: JsonObject) => void,
): (about: JsonObject, error: Error) => void {
  let times = 0;
  let loggedAt = Number.NEGATIVE_INFINITY;
  return (about, error) => {
    times += 1;
    if (now() - loggedAt < THROTTLED_WARNING_EVERY_MS) return;
    log('warn', message, { times, ...about, error: error.message });
    loggedAt = now();
    times = 0;
  };
}
