import type { JobParameters } from 'agenda';
import { SqliteJobRepository, migrateAgendaTables } from '../src/scheduler/index.js';
import { tempDb, type TempDb } from './scheduler-helpers.js';

const job = (over: Partial<JobParameters> = {}): JobParameters => ({
  name: 'convoflow.timer',
  priority: 0,
  nextRunAt: new Date(Date.now() - 1000),
  type: 'normal',
  data: {},
  ...over,
});

describe('SQLite agenda job repository', () => {
  let tmp: TempDb;
  beforeEach(() => {
    tmp = tempDb();
  });
  afterEach(() => tmp.cleanup());

  const repo = async (lockBatchSize = 7): Promise<SqliteJobRepository> => {
    const r = new SqliteJobRepository(tmp.open(), { lockBatchSize });
    await r.connect();
    return r;
  };

  it('should create its tables idempotently', () => {
    const db = tmp.open();
    migrateAgendaTables(db);
    migrateAgendaTables(db);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'agenda_%'").all();
    expect(tables).toEqual([{ name: 'agenda_jobs' }]);
  });

  it('should never hand the same job to two connections sharing the file', async () => {
    const a = await repo();
    const b = await repo();
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.saveJob(job({ data: { i } }), undefined)));
    const scanAt = new Date(Date.now() + 1000);
    const deadline = new Date(Date.now() - 60_000);
    const got: Record<'a' | 'b', string[]> = { a: [], b: [] };
    for (let turn = 0; ; turn++) {
      const [first, second] = turn % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      const one = await (first === 'a' ? a : b).getNextJobToRun('convoflow.timer', scanAt, deadline, undefined, { lastModifiedBy: first });
      const two = await (second === 'a' ? a : b).getNextJobToRun('convoflow.timer', scanAt, deadline, undefined, { lastModifiedBy: second });
      if (one) got[first].push(String(one._id));
      if (two) got[second].push(String(two._id));
      if (!one && !two) break;
    }
    expect(got.a.length).toBeGreaterThan(0);
    expect(got.b.length).toBeGreaterThan(0);
    expect(new Set([...got.a, ...got.b]).size).toBe(100);
    expect(got.a.length + got.b.length).toBe(100);
    const owners = tmp.open().prepare('SELECT last_modified_by AS by, count(*) AS n FROM agenda_jobs GROUP BY by ORDER BY by').all();
    expect(owners).toEqual([
      { by: 'a', n: got.a.length },
      { by: 'b', n: got.b.length },
    ]);
  });

  it('should lock only due jobs, in due-time then priority order', async () => {
    const r = await repo(10);
    const now = Date.now();
    await r.saveJob(job({ data: { n: 'later' }, nextRunAt: new Date(now + 60_000) }), undefined);
    await r.saveJob(job({ data: { n: 'low' }, nextRunAt: new Date(now - 500), priority: 0 }), undefined);
    await r.saveJob(job({ data: { n: 'high' }, nextRunAt: new Date(now - 500), priority: 10 }), undefined);
    await r.saveJob(job({ data: { n: 'oldest' }, nextRunAt: new Date(now - 900) }), undefined);
    await r.saveJob(job({ data: { n: 'disabled' }, disabled: true }), undefined);
    const order: unknown[] = [];
    for (;;) {
      const next = await r.getNextJobToRun('convoflow.timer', new Date(now + 120_000), new Date(now - 60_000), undefined, undefined);
      if (!next) break;
      order.push((next.data as { n: string }).n);
      expect(next.lockedAt).toBeInstanceOf(Date);
    }
    expect(order).toEqual(['oldest', 'high', 'low']);
  });

  it('should hand a job whose lock expired to another connection', async () => {
    const a = await repo();
    const b = await repo();
    const saved = await a.saveJob(job(), undefined);
    const first = await a.getNextJobToRun('convoflow.timer', new Date(), new Date(Date.now() - 600_000), undefined, undefined);
    expect(first?._id).toBe(saved._id);
    // Locked a moment ago: not expired for a 10 min lifetime ...
    expect(await b.getNextJobToRun('convoflow.timer', new Date(), new Date(Date.now() - 600_000), undefined, undefined)).toBeUndefined();
    // ... but a deadline past the lock time means its lifetime ran out: the owner is presumed dead.
    const taken = await b.getNextJobToRun('convoflow.timer', new Date(), new Date(Date.now() + 1), undefined, undefined);
    expect(taken?._id).toBe(saved._id);
  });

  it('should keep the first job for a unique key with insertOnly, and update it otherwise', async () => {
    const r = await repo();
    const unique = { 'data.key': 't1' };
    const first = await r.saveJob(job({ data: { key: 't1', v: 1 }, unique, uniqueOpts: { insertOnly: true } }), undefined);
    const second = await r.saveJob(job({ data: { key: 't1', v: 2 }, unique, uniqueOpts: { insertOnly: true } }), undefined);
    expect(second._id).toBe(first._id);
    expect(second.data).toEqual({ key: 't1', v: 1 });
    const third = await r.saveJob(job({ data: { key: 't1', v: 3 }, unique }), undefined);
    expect(third._id).toBe(first._id);
    expect(third.data).toEqual({ key: 't1', v: 3 });
    expect((await r.queryJobs({ name: 'convoflow.timer' })).total).toBe(1);
    await expect(r.saveJob(job({ unique: { $where: 'x' } }), undefined)).rejects.toThrow(/not supported/);
  });

  it('should keep one job per name for type single and protect a due nextRunAt', async () => {
    const r = await repo();
    const past = new Date(Date.now() - 5_000);
    const a = await r.saveJob(job({ name: 'sweep', type: 'single', nextRunAt: past, repeatInterval: '1 minute' }), undefined);
    const b = await r.saveJob(job({ name: 'sweep', type: 'single', nextRunAt: new Date(), repeatInterval: '2 minutes' }), undefined);
    expect(b._id).toBe(a._id);
    expect(b.nextRunAt?.getTime()).toBe(past.getTime());
    expect(b.repeatInterval).toBe('2 minutes');
  });

  it('should remove, disable and enable by name, id and data, and find by data', async () => {
    const r = await repo();
    const t1 = await r.saveJob(job({ data: { key: 'a', tenant: { id: 1 } } }), undefined);
    await r.saveJob(job({ data: { key: 'b', tenant: { id: 2 } } }), undefined);
    await r.saveJob(job({ name: 'other', data: { key: 'a' } }), undefined);

    expect((await r.queryJobs({ data: { tenant: { id: 2 } } })).jobs.map((j) => (j.data as { key: string }).key)).toEqual(['b']);
    expect(await r.disableJobs({ name: 'convoflow.timer', data: { key: 'b' } })).toBe(1);
    expect((await r.queryJobs({ name: 'convoflow.timer', state: 'paused' })).total).toBe(1);
    expect(await r.enableJobs({ name: 'convoflow.timer' })).toBe(1);
    expect(await r.removeJobs({})).toBe(0);
    expect(await r.removeJobs({ id: String(t1._id) })).toBe(1);
    expect(await r.removeJobs({ notNames: ['convoflow.timer'] })).toBe(1);
    expect(await r.getDistinctJobNames()).toEqual(['convoflow.timer']);
    expect(await r.purgeAllJobs()).toBe(1);
  });

  it('should fail saveJobState for a removed job and report the queue size', async () => {
    const r = await repo();
    const saved = await r.saveJob(job(), undefined);
    expect(await r.getQueueSize()).toBe(1);
    const overview = await r.getJobsOverview();
    expect(overview).toEqual([expect.objectContaining({ name: 'convoflow.timer', total: 1, queued: 1 })]);
    await r.removeJobs({ id: String(saved._id) });
    await expect(r.saveJobState({ ...saved, lockedAt: undefined }, undefined)).rejects.toThrow(/cannot be updated/);
  });
});
