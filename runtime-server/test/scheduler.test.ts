import type Database from 'better-sqlite3';
import {
  createAgendaScheduler,
  SqliteAgendaBackend,
  TIMER_JOB,
  CRON_JOB,
  type AgendaScheduler,
  type FiredTimer,
} from '../src/scheduler/index.js';
import { StorageError } from '../src/storage/errors.js';
import { deferred, tempDb, within, type TempDb } from './scheduler-helpers.js';

// A short lock lifetime also shortens the liveness timer agenda leaves behind each run (lifetime / 2),
// which would otherwise keep jest alive for minutes after the last test.
const FAST = { processEvery: 50, stopTimeoutMs: 5_000, lockLifetimeMs: 1_000 } as const;

describe('agenda scheduler on SQLite', () => {
  let tmp: TempDb;
  const running: AgendaScheduler[] = [];

  const scheduler = (db: Database.Database, extra: Partial<Parameters<typeof createAgendaScheduler>[0]> = {}): AgendaScheduler => {
    const s = createAgendaScheduler({ backend: new SqliteAgendaBackend(db), ...FAST, ...extra });
    running.push(s);
    return s;
  };
  const pending = (db: Database.Database, name = TIMER_JOB): number =>
    (db.prepare('SELECT count(*) AS n FROM agenda_jobs WHERE name = ?').get(name) as { n: number }).n;

  beforeEach(() => {
    tmp = tempDb();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
    tmp.cleanup();
  });

  it('should fire a timer once, at or after its due time, with its payload', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const fired: FiredTimer[] = [];
    const first = deferred<FiredTimer>();
    s.onTimer(async (t) => {
      fired.push(t);
      first.resolve(t);
    });
    await s.start();
    const dueAt = Date.now() + 150;
    await s.scheduleTimer({ timerId: 'run-1:3', dueAt, payload: { runId: 'run-1', nodeId: 'wait' } });

    const t = await within(first.promise, 5_000, 'the timer to fire');
    expect(t).toMatchObject({ kind: 'timer', timerId: 'run-1:3', dueAt, payload: { runId: 'run-1', nodeId: 'wait' }, attempt: 1 });
    expect(t.firedAt).toBeGreaterThanOrEqual(dueAt);
    await s.stop();
    // Removed on completion: it cannot fire again.
    expect(fired).toHaveLength(1);
    expect(pending(db)).toBe(0);
  });

  it('should not fire a cancelled timer', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const fired: string[] = [];
    const later = deferred();
    s.onTimer(async (t) => {
      if (t.kind === 'timer') fired.push(t.timerId);
      if (t.kind === 'timer' && t.timerId === 'later') later.resolve();
    });
    await s.start();
    await s.scheduleTimer({ timerId: 'cancelled', dueAt: Date.now() + 100, payload: {} });
    await s.scheduleTimer({ timerId: 'later', dueAt: Date.now() + 200, payload: {} });
    expect(await s.cancelTimer('cancelled')).toBe(true);
    expect(await s.cancelTimer('never-scheduled')).toBe(false);

    await within(later.promise, 5_000, 'the later timer');
    await s.stop();
    expect(fired).toEqual(['later']);
    expect(pending(db)).toBe(0);
  });

  it('should keep one timer when the same timerId is scheduled twice', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const dueAt = Date.now() + 100;
    await s.scheduleTimer({ timerId: 'dup', dueAt, payload: { n: 1 } });
    await s.scheduleTimer({ timerId: 'dup', dueAt: dueAt + 50, payload: { n: 2 } });
    expect(pending(db)).toBe(1);

    const fired: FiredTimer[] = [];
    const first = deferred();
    s.onTimer(async (t) => {
      fired.push(t);
      first.resolve();
    });
    await s.start();
    await within(first.promise, 5_000, 'the timer');
    await s.stop();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ timerId: 'dup', dueAt, payload: { n: 1 } });
    expect(pending(db)).toBe(0);
  });

  it('should fire a timer after a restart on the same file', async () => {
    const before = scheduler(tmp.open());
    before.onTimer(async () => {
      throw new Error('the first process must not fire it');
    });
    await before.start();
    const dueAt = Date.now() + 300;
    await before.scheduleTimer({ timerId: 'survivor', dueAt, payload: { step: 7 } });
    await before.stop();

    const after = scheduler(tmp.open());
    const fired = deferred<FiredTimer>();
    after.onTimer(async (t) => fired.resolve(t));
    await after.start();
    const t = await within(fired.promise, 5_000, 'the timer in the new process');
    expect(t).toMatchObject({ kind: 'timer', timerId: 'survivor', payload: { step: 7 } });
    expect(t.firedAt).toBeGreaterThanOrEqual(dueAt);
  });

  it('should fire each timer exactly once across two schedulers sharing one file', async () => {
    const N = 400;
    const producer = scheduler(tmp.open());
    const base = Date.now() + 100;
    await Promise.all(
      Array.from({ length: N }, (_, i) => producer.scheduleTimer({ timerId: `t${i}`, dueAt: base + (i % 40) * 10, payload: { i } })),
    );

    const counts = new Map<string, number>();
    const byWorker = [0, 0];
    const all = deferred();
    let total = 0;
    const workers = [0, 1].map((w) => {
      const s = scheduler(tmp.open(), { concurrency: 10 });
      s.onTimer(async (t) => {
        if (t.kind !== 'timer') return;
        counts.set(t.timerId, (counts.get(t.timerId) ?? 0) + 1);
        byWorker[w] = (byWorker[w] ?? 0) + 1;
        await new Promise((r) => setImmediate(r));
        if (++total === N) all.resolve();
      });
      return s;
    });
    await Promise.all(workers.map((s) => s.start()));
    await within(all.promise, 15_000, `${N} timers`);
    await Promise.all(workers.map((s) => s.stop()));

    expect(counts.size).toBe(N);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(total).toBe(N);
    expect(pending(tmp.open())).toBe(0);
    expect(byWorker[0]).toBeGreaterThan(0);
    expect(byWorker[1]).toBeGreaterThan(0);
  });

  it('should compute the next cron run in the given time zone', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const now = Date.now();
    await s.scheduleCron({ id: 'weekly', cron: '30 9 * * 1', timezone: 'America/New_York', payload: { flowId: 'f1' } });
    await s.scheduleCron({ id: 'daily-hk', cron: '0 9 * * *', timezone: 'Asia/Hong_Kong', payload: {} });

    const { jobs } = await s.agenda.queryJobs({ name: CRON_JOB });
    const next = (key: string): Date => {
      const job = jobs.find((j) => (j.data as { key: string }).key === key);
      if (!job?.nextRunAt) throw new Error(`no next run for ${key}`);
      return job.nextRunAt;
    };
    const weekly = next('weekly');
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .formatToParts(weekly)
        .map((p) => [p.type, p.value]),
    );
    expect(parts).toMatchObject({ weekday: 'Mon', hour: '09', minute: '30' });
    expect(weekly.getTime()).toBeGreaterThan(now);
    expect(weekly.getTime() - now).toBeLessThanOrEqual(7 * 24 * 3600_000);

    // Hong Kong is UTC+8 all year: 09:00 there is 01:00 UTC, the first one after now.
    const d = new Date(now);
    let expected = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 1, 0, 0);
    if (expected <= now) expected += 24 * 3600_000;
    expect(next('daily-hk').getTime()).toBe(expected);

    // Re-publishing unchanged keeps the row and its next run; a new expression replaces it.
    await s.scheduleCron({ id: 'daily-hk', cron: '0 9 * * *', timezone: 'Asia/Hong_Kong', payload: {} });
    await s.scheduleCron({ id: 'weekly', cron: '0 8 * * 2', timezone: 'America/New_York', payload: { flowId: 'f1' } });
    const after = await s.agenda.queryJobs({ name: CRON_JOB });
    expect(after.total).toBe(2);
    expect(after.jobs.find((j) => (j.data as { key: string }).key === 'weekly')?.repeatInterval).toBe('0 8 * * 2');
    await expect(s.scheduleCron({ id: 'bad', cron: 'not a cron', timezone: 'UTC', payload: {} })).rejects.toThrow(/invalid cron/);
    await expect(s.scheduleCron({ id: 'bad', cron: '* * * * *', timezone: 'Mars/Olympus', payload: {} })).rejects.toThrow(/time zone/);
    expect(await s.cancelCron('weekly')).toBe(true);
    expect(pending(db, CRON_JOB)).toBe(1);
  });

  it('should fire a cron trigger with its occurrence time and keep it scheduled', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const fired = deferred<FiredTimer>();
    s.onTimer(async (t) => fired.resolve(t));
    await s.start();
    await s.scheduleCron({ id: 'every-second', cron: '* * * * * *', timezone: 'Europe/Paris', payload: { flowId: 'f2' } });
    const t = await within(fired.promise, 5_000, 'a cron occurrence');
    expect(t).toMatchObject({ kind: 'cron', cronId: 'every-second', payload: { flowId: 'f2' }, attempt: 1 });
    expect(t.dueAt % 1000).toBe(0);
    expect(t.firedAt).toBeGreaterThanOrEqual(t.dueAt);
    await s.stop();
    expect(pending(db, CRON_JOB)).toBe(1);
  });

  it('should retry a timer whose handler fails, with backoff', async () => {
    const db = tmp.open();
    const s = scheduler(db, { retry: { initialDelayMs: 50, maxRetries: 3 } });
    const attempts: number[] = [];
    const done = deferred();
    s.onTimer(async (t) => {
      attempts.push(t.attempt);
      if (t.attempt < 3) throw new Error(`transient failure ${t.attempt}`);
      done.resolve();
    });
    await s.start();
    await s.scheduleTimer({ timerId: 'flaky', dueAt: Date.now(), payload: {} });
    await within(done.promise, 5_000, 'the third attempt');
    await s.stop();
    expect(attempts).toEqual([1, 2, 3]);
    expect(pending(db)).toBe(0);
  });

  it('should keep a timer whose retries are exhausted, marked failed', async () => {
    const db = tmp.open();
    const errors: Error[] = [];
    const exhausted = deferred();
    const s = scheduler(db, {
      retry: { initialDelayMs: 20, maxRetries: 1 },
      onError: (e) => {
        errors.push(e);
        if (/gave up/.test(e.message)) exhausted.resolve();
      },
    });
    s.onTimer(async () => {
      throw new Error('always down');
    });
    await s.start();
    await s.scheduleTimer({ timerId: 'doomed', dueAt: Date.now(), payload: {} });
    await within(exhausted.promise, 5_000, 'retries to be exhausted');
    await s.stop();
    const row = db.prepare('SELECT fail_count, fail_reason, next_run_at FROM agenda_jobs WHERE name = ?').get(TIMER_JOB);
    expect(row).toEqual({ fail_count: 2, fail_reason: 'always down', next_run_at: null });
    expect(errors.some((e) => /convoflow\.timer doomed gave up after 2 failures/.test(e.message))).toBe(true);
  });

  it('should never give up a timer whose handler fails because the store cannot write', async () => {
    const db = tmp.open();
    const errors: Error[] = [];
    // A policy that would wait a minute before its one retry, then give up.
    const s = scheduler(db, { retry: { initialDelayMs: 60_000, maxRetries: 1 }, onError: (e) => errors.push(e) });
    const attempts: number[] = [];
    const done = deferred();
    // The runtime's handler journals the timer; while the disk is full that append fails.
    s.onTimer(async (t) => {
      attempts.push(t.attempt);
      if (t.attempt <= 4) throw new StorageError('FULL', 'The disk holding the SQLite database is full');
      done.resolve();
    });
    await s.start();
    await s.scheduleTimer({ timerId: 'patient', dueAt: Date.now(), payload: {} });
    await within(done.promise, 5_000, 'the attempt after the disk had room');
    await s.stop();
    // Four failures against a policy that gives up after two attempts, and still delivered, within
    // seconds (100 + 200 + 400 + 800 ms), not the policy's minutes.
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(errors.filter((e) => /gave up/.test(e.message))).toEqual([]);
    expect(pending(db)).toBe(0);
  });

  it('should wait for running handlers on stop and release timers it took but did not start', async () => {
    const db = tmp.open();
    const s = scheduler(db, { concurrency: 1 });
    const started = deferred();
    const release = deferred();
    const order: string[] = [];
    s.onTimer(async (t) => {
      if (t.kind === 'timer' && t.timerId === 'slow') {
        started.resolve();
        await release.promise;
        order.push('handler finished');
      }
    });
    const now = Date.now();
    await s.scheduleTimer({ timerId: 'slow', dueAt: now - 10, payload: {} });
    for (let i = 0; i < 5; i++) await s.scheduleTimer({ timerId: `queued-${i}`, dueAt: now, payload: {} });
    await s.start();
    await within(started.promise, 5_000, 'the slow handler to start');

    const stopped = s.stop().then(() => order.push('stop resolved'));
    setImmediate(() => release.resolve());
    await within(stopped, 5_000, 'stop');
    expect(order).toEqual(['handler finished', 'stop resolved']);
    const rows = db.prepare('SELECT json_extract(data, ?) AS id, locked_at FROM agenda_jobs ORDER BY id').all('$.key');
    expect(rows).toEqual(Array.from({ length: 5 }, (_, i) => ({ id: `queued-${i}`, locked_at: null })));
  });

  it('should never run more handlers at once than its concurrency, firing each due timer once', async () => {
    const db = tmp.open();
    const s = scheduler(db, { concurrency: 7, claimBatchSize: 3 });
    const N = 60;
    let active = 0;
    let peak = 0;
    const counts = new Map<string, number>();
    const all = deferred();
    s.onTimer(async (t) => {
      if (t.kind !== 'timer') return;
      active++;
      peak = Math.max(peak, active);
      counts.set(t.timerId, (counts.get(t.timerId) ?? 0) + 1);
      await new Promise((r) => setImmediate(r));
      active--;
      if (counts.size === N) all.resolve();
    });
    const now = Date.now();
    for (let i = 0; i < N; i++) await s.scheduleTimer({ timerId: `b${i}`, dueAt: now - i, payload: {} });
    await s.start();
    await within(all.promise, 5_000, `${N} timers`);
    await s.stop();
    expect(peak).toBeLessThanOrEqual(7);
    expect(peak).toBeGreaterThan(1);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(pending(db)).toBe(0);
  });

  it('should fire a timer stored through agenda itself (rows written before batch firing)', async () => {
    const db = tmp.open();
    const s = scheduler(db);
    const dueAt = Date.now() + 50;
    await s.agenda
      .create(TIMER_JOB, { key: 'legacy', dueAt, payload: { v: 1 } })
      .schedule(new Date(dueAt))
      .unique({ 'data.key': 'legacy' }, { insertOnly: true })
      .save();
    // The fast path and agenda's agree on the unique key: no second row.
    await s.scheduleTimer({ timerId: 'legacy', dueAt: dueAt + 1_000, payload: { v: 2 } });
    expect(pending(db)).toBe(1);
    const fired = deferred<FiredTimer>();
    s.onTimer(async (t) => fired.resolve(t));
    await s.start();
    const t = await within(fired.promise, 5_000, 'the agenda-stored timer');
    expect(t).toMatchObject({ kind: 'timer', timerId: 'legacy', dueAt, payload: { v: 1 }, attempt: 1 });
    await s.stop();
    expect(pending(db)).toBe(0);
  });

  it("should deliver a dead process's timer elsewhere once its lock lifetime has passed", async () => {
    // The first process's handler never returns and its stop gives up: the row stays locked, as
    // when a process is killed mid-handler.
    const dead = scheduler(tmp.open(), { stopTimeoutMs: 50 });
    const took = deferred<FiredTimer>();
    dead.onTimer(async (t) => {
      took.resolve(t);
      await new Promise(() => undefined);
    });
    await dead.start();
    await dead.scheduleTimer({ timerId: 'orphan', dueAt: Date.now(), payload: { n: 1 } });
    const first = await within(took.promise, 5_000, 'the first delivery');
    await dead.stop();

    const heir = scheduler(tmp.open());
    const again = deferred<FiredTimer>();
    heir.onTimer(async (t) => again.resolve(t));
    await heir.start();
    const t = await within(again.promise, 5_000, 'the second delivery');
    expect(t).toMatchObject({ timerId: 'orphan', payload: { n: 1 }, attempt: 1 });
    // Locked a moment before the first delivery read the clock: allow those few ms.
    expect(t.firedAt - first.firedAt).toBeGreaterThanOrEqual(FAST.lockLifetimeMs - 20);
    await heir.stop();
    expect(pending(tmp.open())).toBe(0);
  });

  it('should keep the lock of a handler running longer than the lock lifetime, so no other process runs it', async () => {
    const db = tmp.open();
    const owner = scheduler(db);
    const started = deferred();
    const release = deferred();
    let calls = 0;
    owner.onTimer(async () => {
      calls++;
      started.resolve();
      await release.promise;
    });
    await owner.start();
    await owner.scheduleTimer({ timerId: 'long', dueAt: Date.now(), payload: {} });
    await within(started.promise, 5_000, 'the handler to start');
    const lockedAt = (): number =>
      (db.prepare('SELECT locked_at AS at FROM agenda_jobs WHERE name = ?').get(TIMER_JOB) as { at: number }).at;
    const firstLock = lockedAt();

    const other = scheduler(tmp.open());
    let stolen = 0;
    other.onTimer(async () => {
      stolen++;
    });
    await other.start();
    // Wait (bounded) until the heartbeat has moved the lock past the first lock's expiry.
    await within(
      (async () => {
        while (lockedAt() <= firstLock + FAST.lockLifetimeMs) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
      'the heartbeat to extend the lock',
    );
    release.resolve();
    await owner.stop();
    await other.stop();
    expect(calls).toBe(1);
    expect(stolen).toBe(0);
    expect(pending(db)).toBe(0);
  });

  it('should refuse to start without a handler', async () => {
    const s = scheduler(tmp.open());
    await expect(s.start()).rejects.toThrow(/onTimer/);
  });
});
