import Database from 'better-sqlite3';
import { MultiRowInsert } from '../src/storage/sqlite/multi-row-insert.js';

describe('MultiRowInsert', () => {
  const table = () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)');
    return db;
  };

  it('should write every row, also more than one statement holds', () => {
    const db = table();
    const insert = new MultiRowInsert(db, 'INSERT INTO t (k, n)', 2);
    const rows = Array.from({ length: 70 }, (_, i) => [`k${i}`, i]);
    insert.run(rows);
    insert.run([]);
    expect(db.prepare('SELECT COUNT(*) AS c, SUM(n) AS s FROM t').get()).toEqual({ c: 70, s: (69 * 70) / 2 });
  });

  it('should apply the tail to every row, and fail as one statement without it', () => {
    const db = table();
    const ignoring = new MultiRowInsert(db, 'INSERT INTO t (k, n)', 2, 'ON CONFLICT (k) DO NOTHING');
    ignoring.run([['a', 1], ['a', 2], ['b', 3]]);
    expect(db.prepare('SELECT k, n FROM t ORDER BY k').all()).toEqual([{ k: 'a', n: 1 }, { k: 'b', n: 3 }]);
    const strict = new MultiRowInsert(db, 'INSERT INTO t (k, n)', 2);
    expect(() => strict.run([['c', 4], ['a', 5]])).toThrow(/UNIQUE/);
    expect(db.prepare("SELECT COUNT(*) AS c FROM t WHERE k = 'c'").get()).toEqual({ c: 0 });
  });
});
