/**
 * Bounds on what one run may hold. A run's state is stored with every step and loaded into memory
 * for every event, so a flow that keeps growing a value (a variable doubled on each pass of a loop
 * with a delay, a growing list of answers) would otherwise reach hundreds of megabytes within
 * seconds, hold the server's event loop while it is copied, and take down every other run with it.
 */
export const RUN_LIMITS = {
  /**
   * The most characters a rendered template, a variable or a contact field may hold (for a value
   * that is not text: its JSON). Ten times the longest message any channel takes; an HTTP node
   * keeps at most 65,536 characters of a response body, so rendering one still fits.
   */
  maxValueChars: 100_000,
  /**
   * The most characters of JSON a run's variables, contact and node outputs may hold together:
   * about 2 MB, the size of the largest state Temporal stores for a workflow in one piece.
   */
  maxStateChars: 2_000_000,
  /**
   * The most steps (events handled) a run may take; the runtime fails it with TOO_MANY_STEPS
   * after that. A loop through an action or a delay is valid and ends only when its flow says so:
   * one that never does would call its remote for ever. Temporal's bound on a workflow's history
   * is of the same size (51,200 events).
   */
  maxSteps: 50_000,
} as const;

/** `n` with thousands separators, as limits are quoted in messages. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');
