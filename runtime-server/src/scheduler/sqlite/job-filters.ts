import type { JobsQueryOptions, JobsSort, RemoveJobsOptions } from 'agenda';

/** A SQL condition with its positional parameters. @internal */
export interface SqlWhere {
  sql: string;
  params: unknown[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * JSON path literal for one dotted data path. Plain identifiers are left unquoted so that
 * `json_extract(data, '$.key')` is textually equal to the indexed expression.
 */
function jsonPath(segments: string[]): string {
  const parts = segments.map((s) => {
    if (IDENTIFIER.test(s)) return s;
    if (s.includes('"')) throw new Error(`Unsupported data filter key: ${s}`);
    return `"${s}"`;
  });
  return `'$.${parts.join('.').replaceAll("'", "''")}'`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);

/**
 * Mongo-like partial match on the JSON `data` column: an object filter matches each leaf path,
 * anything else must equal the whole value.
 */
function dataConditions(data: unknown, out: SqlWhere): void {
  if (!isPlainObject(data)) {
    out.sql += ' AND data = ?';
    out.params.push(JSON.stringify(data));
    return;
  }
  const walk = (obj: Record<string, unknown>, prefix: string[]): void => {
    for (const [key, value] of Object.entries(obj)) {
      const path = [...prefix, key];
      if (isPlainObject(value)) {
        walk(value, path);
        continue;
      }
      const expr = `json_extract(data, ${jsonPath(path)})`;
      if (value === null || value === undefined) {
        out.sql += ` AND ${expr} IS NULL`;
      } else if (typeof value === 'boolean') {
        out.sql += ` AND json_type(data, ${jsonPath(path)}) = ?`;
        out.params.push(value ? 'true' : 'false');
      } else if (typeof value === 'number' || typeof value === 'string') {
        out.sql += ` AND ${expr} = ?`;
        out.params.push(value);
      } else if (value instanceof Date) {
        out.sql += ` AND ${expr} = ?`;
        out.params.push(value.toISOString());
      } else {
        out.sql += ` AND ${expr} = ?`;
        out.params.push(JSON.stringify(value));
      }
    }
  };
  walk(data, []);
}

const parseId = (id: unknown): number | undefined => {
  const s = String(id);
  return /^\d+$/.test(s) ? Number(s) : undefined;
};

const strings = (xs: unknown[] | undefined): string[] => (xs ?? []).filter((x): x is string => typeof x === 'string');

/**
 * WHERE clause for remove/disable/enable. `undefined` when the options select nothing
 * (agenda's Mongo backend treats "no criteria" as a no-op, not as "all jobs").
 * @internal
 */
export function removeOptionsWhere(options: RemoveJobsOptions): SqlWhere | undefined {
  const where: SqlWhere = { sql: '1 = 1', params: [] };
  let criteria = 0;
  if (options.id !== undefined && options.id !== null) {
    const id = parseId(options.id);
    if (id === undefined) return { sql: '0 = 1', params: [] };
    where.sql += ' AND id = ?';
    where.params.push(id);
    criteria++;
  } else if (options.ids && options.ids.length > 0) {
    const ids = options.ids.map(parseId).filter((x): x is number => x !== undefined);
    if (ids.length === 0) return { sql: '0 = 1', params: [] };
    where.sql += ` AND id IN (${ids.map(() => '?').join(',')})`;
    where.params.push(...ids);
    criteria++;
  }
  const names = strings(options.names);
  const notNames = strings(options.notNames);
  if (typeof options.name === 'string' && options.name !== '') {
    where.sql += ' AND name = ?';
    where.params.push(options.name);
    criteria++;
  } else if (names.length > 0) {
    where.sql += ` AND name IN (${names.map(() => '?').join(',')})`;
    where.params.push(...names);
    criteria++;
  } else if (notNames.length > 0) {
    where.sql += ` AND name NOT IN (${notNames.map(() => '?').join(',')})`;
    where.params.push(...notNames);
    criteria++;
  }
  if (options.data !== undefined) {
    dataConditions(options.data, where);
    criteria++;
  }
  return criteria === 0 ? undefined : where;
}

/**
 * WHERE clause for queryJobs (state filtering happens after, in code, as agenda computes states).
 * @internal
 */
export function queryOptionsWhere(options: JobsQueryOptions): SqlWhere {
  const where: SqlWhere = { sql: '1 = 1', params: [] };
  const names = strings(options.names);
  if (typeof options.search === 'string' && options.search !== '') {
    where.sql += " AND name LIKE ? ESCAPE '\\'";
    where.params.push(`%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  } else if (typeof options.name === 'string' && options.name !== '') {
    where.sql += ' AND name = ?';
    where.params.push(options.name);
  } else if (names.length > 0) {
    where.sql += ` AND name IN (${names.map(() => '?').join(',')})`;
    where.params.push(...names);
  }
  if (typeof options.id === 'string' && options.id !== '') {
    const id = parseId(options.id);
    where.sql += ' AND id = ?';
    where.params.push(id ?? -1);
  } else if (options.ids && options.ids.length > 0) {
    const ids = options.ids.map(parseId).filter((x): x is number => x !== undefined);
    where.sql += ` AND id IN (${ids.length > 0 ? ids.map(() => '?').join(',') : 'NULL'})`;
    where.params.push(...ids);
  }
  if (options.data !== undefined) dataConditions(options.data, where);
  if (options.includeDisabled === false) where.sql += ' AND disabled = 0';
  return where;
}

const SORT_COLUMNS: Record<keyof JobsSort, string> = {
  nextRunAt: 'next_run_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  priority: 'priority',
  name: 'name',
  data: 'data',
};

/**
 * ORDER BY clause for queryJobs; agenda's default is nextRunAt then lastRunAt, both descending.
 * NULLs sort as MongoDB sorts them: lowest.
 * @internal
 */
export function orderBy(sort: JobsSort | undefined): string {
  const parts = Object.entries(sort ?? {})
    .filter(([k, dir]) => k in SORT_COLUMNS && (dir === 'asc' || dir === 'desc'))
    .map(([k, dir]) => {
      const col = SORT_COLUMNS[k as keyof JobsSort];
      return dir === 'asc' ? `${col} ASC NULLS FIRST` : `${col} DESC NULLS LAST`;
    });
  return parts.length > 0 ? parts.join(', ') : 'next_run_at DESC NULLS LAST, last_run_at DESC NULLS LAST';
}
