/**
 * A `LIMIT` bound at run time, for SQL handed to better-sqlite3: `LIMIT ?+0`, never `LIMIT ?`.
 *
 * SQLite treats a bare parameter in LIMIT as one the query plan may depend on
 * (`sqlite3ExprIsInteger` marks it in the statement's variable mask), so every bind of it expires
 * the statement and the next step prepares it again. On the store's hot reads that cost more than
 * the query: 20.5 us against 1.8 us for the journal's pending-rows read, 9 us against 0.9 us for a
 * transcript page, inside one transaction. `?+0` is an expression, not a parameter, to that check.
 *
 * @param parameter the placeholder, `?` (default) or a named one such as `@limit`
 */
export function limitBy(parameter = '?'): string {
  return `LIMIT ${parameter}+0`;
}
