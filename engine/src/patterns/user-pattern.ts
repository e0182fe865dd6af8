import { RE2JS } from 're2js';

/** A regular expression a flow's author wrote, ready to test messages and fields with. */
export interface UserPattern {
  /** Whether the pattern matches anywhere in `text`, as `RegExp.prototype.test` does. */
  test(text: string): boolean;
}

/** Why a pattern cannot be used, with RE2's own explanation. */
export class UserPatternError extends Error {
  override readonly name = 'UserPatternError';
}

/** The longest pattern compiled at all; callers may hold their fields to less. */
export const MAX_USER_PATTERN_LENGTH = 1_000;

const MAX_CACHED = 1_000;
const cache = new Map<string, UserPattern | UserPatternError>();

/**
 * Compiles a regular expression written in JavaScript syntax (as the designer and the docs show
 * them) for RE2 (re2js), which matches in time linear in the text. The patterns come from
 * business users and the texts from anyone who writes to the business: with JavaScript's
 * backtracking engine, `^(a+)+$` against thirty "a"s and a "!" holds the event loop for seconds,
 * and every workspace on the server with it. RE2 has no such input.
 *
 * What RE2 cannot run is refused rather than run slowly: lookahead, lookbehind and backreferences
 * (they need backtracking), and repeat counts over 1,000. Case-insensitive matching folds Unicode
 * case, as JavaScript's `iu` flags do. Compiled patterns are cached (compiling costs ~25 us, a test
 * of a short message well under 1 us).
 *
 * Pure: no I/O.
 *
 * @throws UserPatternError naming what is wrong with the pattern.
 * @example
 * compileUserPattern('\\border\\s*#?\\d+', { caseSensitive: false }).test('Where is ORDER #1234?'); // true
 */
export function compileUserPattern(source: string, options: { caseSensitive: boolean }): UserPattern {
  const key = `${options.caseSensitive ? 's' : 'i'}:${source}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compileUncached(source, options.caseSensitive);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, compiled);
  }
  if (compiled instanceof UserPatternError) throw compiled;
  return compiled;
}

/**
 * Whether `source` matches anywhere in `text`; false for a pattern over `maxLength` or one RE2
 * cannot compile, which the validator reports and a run treats as no match.
 */
export function matchesUserPattern(source: string, text: string, options: { caseSensitive: boolean; maxLength: number }): boolean {
  if (source.length > options.maxLength) return false;
  try {
    return compileUserPattern(source, options).test(text);
  } catch {
    return false;
  }
}

/**
 * Why `source` cannot be compiled by `compileUserPattern`, or undefined when it can: what the
 * validator reports before a flow is published.
 */
export function userPatternProblem(source: string): string | undefined {
  try {
    compileUserPattern(source, { caseSensitive: true });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function compileUncached(source: string, caseSensitive: boolean): UserPattern | UserPatternError {
  if (source.length > MAX_USER_PATTERN_LENGTH) {
    return new UserPatternError(`is longer than ${MAX_USER_PATTERN_LENGTH} characters`);
  }
  try {
    // RE2 spells a few things differently (`\u00e9` is `\x{00e9}`, `(?<name>` is `(?P<name>`).
    const re2 = RE2JS.compile(RE2JS.translateRegExp(source), caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
    return { test: (text) => re2.test(text) };
  } catch (err) {
    const reason = String((err as Error).message ?? err).replace(/^error parsing regexp: /, '');
    const hint = /\(\?<?[=!]|\\[1-9]/.test(source) ? ' (lookahead, lookbehind and backreferences are not supported)' : '';
    return new UserPatternError(`is not a regular expression Convoflow can run: ${reason}${hint}`);
  }
}
