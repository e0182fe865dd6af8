import type Database from 'better-sqlite3';

/** Rows per statement at most; more are written in several statements. */
const MAX_ROWS = 32;

/**
 * One INSERT for several rows: `INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ...`, prepared once per
 * row count. A step commit writes a step-log row per step and a message per send; one statement
 * for them all saves a round through the statement machinery per row.
 *
 * @example
 * const insert = new MultiRowInsert(db, 'INSERT INTO t (a, b)', 2);
 * insert.run([[1, 'x'], [2, 'y']]);
 */
export class MultiRowInsert {
  readonly #byCount = new Map<number, Database.Statement>();

  /** `tail` follows the VALUES list (an ON CONFLICT clause). */
  constructor(
    private readonly db: Database.Database,
    private readonly head: string,
    private readonly columns: number,
    private readonly tail = '',
  ) {}

  /** Writes the rows; returns what the last statement reported (undefined for no rows). */
  run(rows: readonly (readonly unknown[])[]): Database.RunResult | undefined {
    let result: Database.RunResult | undefined;
    for (let from = 0; from < rows.length; from += MAX_ROWS) {
      const chunk = rows.slice(from, from + MAX_ROWS);
      result = this.statement(chunk.length).run(...chunk.flat());
    }
    return result;
  }

  private statement(count: number): Database.Statement {
    let statement = this.#byCount.get(count);
    if (!statement) {
      const row = `(${new Array<string>(this.columns).fill('?').join(', ')})`;
      statement = this.db.prepare(`${this.head} VALUES ${new Array<string>(count).fill(row).join(', ')} ${this.tail}`);
      this.#byCount.set(count, statement);
    }
    return statement;
  }
}
