/**
 * Timer throughput and lateness of the agenda scheduler on SQLite.
 *
 * Schedules N one-shot timers due in a short window (default 100,000 due 2-5 s from now), fires
 * them through `createAgendaScheduler` on a temp SQLite file (WAL, synchronous=NORMAL) and prints
 * lateness (fire time - due time) percentiles and throughput. Target: p99 lateness < 1 s.
 *
 *   node --import tsx bench/timers.ts [--n 100000] [--window-start 2000] [--window 3000] [--process-every 100]
 *                           [--concurrency 500] [--claim-batch 500] [--lock-batch 500] [--workers 1]
 *
 * `--claim-batch` is how many due timers one claim locks; `--lock-batch` is the SQLite backend's
 * prefetch for agenda's own jobs (crons), which this bench does not use.
 *
 * `--workers 2` runs that many schedulers (separate database connections) in this process;
 * `--processes 2` runs the schedulers in that many child processes instead (this one only stores
 * the timers), which also checks that no timer fires twice across processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createAgendaScheduler, SqliteAgendaBackend, type AgendaScheduler } from '../runtime-server/src/scheduler/index.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i >= 0 ? process.argv[i + 1] : undefined;
  return raw === undefined ? fallback : Number(raw);
};

const N = arg('n', 100_000);
const windowStart = arg('window-start', 2_000);
const windowMs = arg('window', 3_000);
const processEvery = arg('process-every', 100);
const concurrency = arg('concurrency', 500);
const lockBatchSize = arg('lock-batch', 500);
const claimBatchSize = arg('claim-batch', 500);
const workers = arg('workers', 1);
const processes = arg('processes', 0);
const childFile = process.argv[process.argv.indexOf('--child-file') + 1];
const isChild = process.argv.includes('--child-file') && childFile !== undefined;

const dir = isChild ? '' : mkdtempSync(join(tmpdir(), 'convoflow-bench-timers-'));
const file = isChild ? (childFile as string) : join(dir, 'timers.db');
const open = (): Database.Database => {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
};

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? NaN : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

const makeScheduler = (w: number): AgendaScheduler =>
  createAgendaScheduler({
    backend: new SqliteAgendaBackend(open(), { lockBatchSize }),
    processEvery,
    concurrency,
    claimBatchSize,
    name: `bench-${process.pid}-${w}`,
  });

/** A child process: fires timers and reports `[index, lateness]` pairs to the parent. */
async function child(): Promise<void> {
  let batch: number[] = [];
  const flush = (): void => {
    if (batch.length > 0) process.send?.(batch);
    batch = [];
  };
  const s = makeScheduler(0);
  s.onTimer(async (t) => {
    if (t.kind === 'timer') batch.push(Number(t.timerId.slice(1)), Date.now() - t.dueAt, Date.now());
  });
  await s.start();
  const iv = setInterval(flush, 50);
  process.on('message', (msg) => {
    if (msg !== 'stop') return;
    void s.stop().then(() => {
      clearInterval(iv);
      flush();
      process.disconnect?.();
    });
  });
  process.send?.('ready');
}

async function main(): Promise<void> {
  const lateness = new Float64Array(N);
  const seen = new Uint8Array(N);
  let fired = 0;
  let duplicates = 0;
  let firstFire = Infinity;
  let lastFire = 0;
  let done!: () => void;
  const allFired = new Promise<void>((resolve) => {
    done = resolve;
  });

  const record = (i: number, late: number, now: number): void => {
    if (seen[i]) {
      duplicates++;
      return;
    }
    seen[i] = 1;
    lateness[fired++] = late;
    if (now < firstFire) firstFire = now;
    if (now > lastFire) lastFire = now;
    if (fired === N) done();
  };

  const schedulers: AgendaScheduler[] = [];
  const children: ReturnType<typeof fork>[] = [];
  if (processes > 0) {
    const self = fileURLToPath(import.meta.url);
    const args = ['--child-file', file, '--process-every', String(processEvery), '--concurrency', String(concurrency), '--lock-batch', String(lockBatchSize), '--claim-batch', String(claimBatchSize)];
    open().close(); // WAL mode is set once for the file before the children open it.
    for (let p = 0; p < processes; p++) {
      const c = fork(self, args, { execArgv: ['--import', 'tsx'] });
      c.on('message', (msg) => {
        if (!Array.isArray(msg)) return;
        for (let k = 0; k < msg.length; k += 3) record(msg[k] as number, msg[k + 1] as number, msg[k + 2] as number);
      });
      await new Promise<void>((resolve) => c.once('message', () => resolve()));
      children.push(c);
    }
  } else {
    for (let w = 0; w < workers; w++) {
      const s = makeScheduler(w);
      s.onTimer(async (t) => {
        if (t.kind === 'timer') record(Number(t.timerId.slice(1)), Date.now() - t.dueAt, Date.now());
      });
      await s.start();
      schedulers.push(s);
    }
  }

  const producer = schedulers[0] ?? makeScheduler(-1);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const firstDue = t0 + windowStart;
  const CHUNK = 10_000;
  for (let from = 0; from < N; from += CHUNK) {
    const batch: Promise<void>[] = [];
    for (let i = from; i < Math.min(N, from + CHUNK); i++) {
      batch.push(producer.scheduleTimer({ timerId: `t${i}`, dueAt: firstDue + Math.floor((i / N) * windowMs), payload: { i } }));
    }
    await Promise.all(batch);
  }
  const scheduledIn = Date.now() - t0;
  const cpuSchedule = process.cpuUsage(cpu0);

  const deadline = setTimeout(() => done(), windowStart + windowMs + 120_000);
  await allFired;
  clearTimeout(deadline);
  const cpuFire = process.cpuUsage(cpu0);
  const cpuFireMs = (cpuFire.user + cpuFire.system - cpuSchedule.user - cpuSchedule.system) / 1000;
  const cpuScheduleMs = (cpuSchedule.user + cpuSchedule.system) / 1000;
  const rssMb = process.memoryUsage().rss / 1024 / 1024;
  await Promise.all(schedulers.map((s) => s.stop()));
  await Promise.all(
    children.map((c) => {
      c.send('stop');
      return new Promise<void>((resolve) => c.once('exit', () => resolve()));
    }),
  );
  if (processes > 0) await producer.stop();

  const sorted = lateness.slice(0, fired).sort();
  const fmt = (x: number): string => x.toFixed(0);
  console.log(
    `config: n=${N} window=${windowStart}-${windowStart + windowMs} ms processEvery=${processEvery} concurrency=${concurrency} ` +
      `claimBatch=${claimBatchSize} lockBatch=${lockBatchSize} ${processes > 0 ? `processes=${processes}` : `workers=${workers}`}`,
  );
  console.log(
    `schedule: ${N} timers stored in ${scheduledIn} ms (${fmt((N / scheduledIn) * 1000)}/s), ` +
      `cpu ${fmt((cpuScheduleMs * 1000) / N)} us/timer`,
  );
  console.log(
    `timers: ${fired} fired, lateness p50=${fmt(percentile(sorted, 50))} p99=${fmt(percentile(sorted, 99))} ` +
      `max=${fmt(sorted[sorted.length - 1] ?? NaN)} ms`,
  );
  const span = lastFire - firstFire;
  console.log(
    `throughput: ${fmt(span > 0 ? (fired / span) * 1000 : NaN)} fired/s over ${span} ms (due window ${windowMs} ms), ` +
      `duplicates=${duplicates}, rss=${fmt(rssMb)} MB`,
  );
  // On a shared machine wall-clock numbers depend on what else runs; CPU per timer does not.
  console.log(
    `cpu: ${fmt((cpuFireMs * 1000) / Math.max(1, fired))} us/timer fired (${fmt((fired / cpuFireMs) * 1000)} timers per cpu-second), ` +
      `${processes > 0 ? '(this process only stores timers) ' : ''}process got ${fmt((cpuFireMs / Math.max(1, Date.now() - t0 - scheduledIn)) * 100)}% of a core while firing, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  rmSync(dir, { recursive: true, force: true });
  if (fired !== N || duplicates > 0) process.exitCode = 1;
}

(isChild ? child() : main()).catch((error: unknown) => {
  console.error(error);
  if (!isChild) rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
