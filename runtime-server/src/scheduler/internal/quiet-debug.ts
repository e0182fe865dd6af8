import { createRequire } from 'node:module';

/**
 * agenda builds a new `debug` logger on almost every internal call (`log.extend(...)`), and each
 * one probes `isatty(stderr)` unless colours are configured: measured at a quarter of the CPU while
 * firing thousands of timers per second. Turns colours off in the `debug` instance agenda uses
 * (they only show with `DEBUG=agenda:*` on a terminal), unless `DEBUG_COLORS` is set.
 * @internal
 */
export function quietAgendaDebug(): void {
  try {
    const fromAgenda = createRequire(import.meta.resolve('agenda'));
    const debug = fromAgenda('debug') as { inspectOpts?: Record<string, unknown> };
    if (debug.inspectOpts && !('colors' in debug.inspectOpts)) debug.inspectOpts.colors = false;
  } catch {
    // A loader without import.meta.resolve (jest's VM modules): keep agenda's default.
  }
}
