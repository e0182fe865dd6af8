import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { limitBy } from '../src/support/sqlite-limit.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|cjs|js)$/.test(entry.name) ? [path] : [];
  });
}

const isComment = (line: string): boolean => /^\s*(\*|\/\/|\/\*)/.test(line);

describe('limitBy', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  for (let n = 1; n <= 10; n++) insert.run(n);

  afterAll(() => db.close());

  it('should limit by a positional parameter, each bind taking effect', () => {
    const page = db.prepare<[number, number], { n: number }>(`SELECT n FROM t WHERE n > ? ORDER BY n ${limitBy()}`);
    expect(page.all(0, 3).map((r) => r.n)).toEqual([1, 2, 3]);
    expect(page.all(3, 2).map((r) => r.n)).toEqual([4, 5]);
    expect(page.all(0, 0)).toEqual([]);
    // -1 is SQLite's "no limit" (the scheduler's job listing relies on it).
    expect(page.all(7, -1).map((r) => r.n)).toEqual([8, 9, 10]);
  });

  it('should limit by a named parameter, with an OFFSET after it', () => {
    const page = db.prepare<[{ limit: number; skip: number }], { n: number }>(
      `SELECT n FROM t ORDER BY n ${limitBy('@limit')} OFFSET @skip`,
    );
    expect(page.all({ limit: 2, skip: 4 }).map((r) => r.n)).toEqual([5, 6]);
  });

  it('should refuse a limit that is not a whole number, as a bare LIMIT does', () => {
    const page = db.prepare(`SELECT n FROM t ${limitBy()}`);
    expect(() => page.all(2.5)).toThrow(/datatype mismatch/);
  });

  // A bare `LIMIT ?` re-prepares its statement at every bind (see sqlite-limit.ts): keep it out.
  it('should be how every SQL statement of the runtime server binds its LIMIT', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const bare = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/LIMIT\s+[?@:]/.test(line) && !isComment(line) ? [`${file.slice(SRC.length + 1)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(bare).toEqual([]);
  });
});
