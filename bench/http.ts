/**
 * End-to-end runtime-server speed over HTTP: the real server (`runtime-server/src/server.ts`) as a
 * child process on a temp SQLite file, the load generator in this process.
 *
 * A keyword-triggered 10-node flow (set_variable x3 -> condition -> switch -> set_variable x3 ->
 * send_text "done {{vars.n}}" -> end) is published; then `--senders` contacts (50) each send
 * "bench" in a loop for `--duration` s (15) after `--warmup` s (3). Each message is a POST to the
 * simulator channel that waits for the reply (`?wait=`: answered once the message is journaled,
 * durable, and the flow's reply is stored), so every contact has one message in flight.
 * `--exchange poll` sends each as a POST answered 202 followed by a long-poll GET of the transcript
 * instead: two round trips per message, as clients that keep the two apart do.
 *
 * Prints, per durability setting (FULL, every acknowledged message survives power loss; then
 * NORMAL for comparison): runs/s (replies seen in the window / window, beside the runs the server
 * itself ended in the window, by their `endedAt` from `GET /api/runs`), inbound-to-outbound
 * latency p50/p99/max as the client sees it and as the server stamped the stored reply, how long
 * `GET /healthz` took meanwhile (event-loop starvation), the CPU each side used and the server's
 * CPU per run, and the load average (other work on this machine skews everything). At the end the
 * server's counters must agree: one run done per reply, no failed effect. Targets: >= 3,000 runs/s
 * and p99 < 50 ms on this 2-core machine, printed as PASS or BELOW TARGET, never enforced.
 *
 *   node --import tsx bench/http.ts [--senders 50] [--duration 15] [--warmup 3]
 *                                   [--sync FULL,NORMAL] [--profile] [--top 15]
 *                                   [--data-root /dev/shm] [--baseline-s 5] [--verbose]
 *                                   [--server-root DIR] [--json-out FILE]
 *                                   [--exchange wait|poll] [--other-flows 0] [--say-all]
 *
 * `--profile` (or BENCH_PROFILE=1) runs the first server child under `--cpu-prof` and prints the
 * top self-time frames of the measured window (positions mapped back to the TypeScript through
 * tsx's cache), self time by area, and our functions by inclusive time. `--data-root /dev/shm`
 * puts the database on tmpfs, where fsync costs nothing: not durable, but it separates the disk's
 * share from the CPU's. `--baseline-s` (5) then runs the same senders against a bare Node HTTP server
 * that answers at once (bench/support/baseline-server.ts): the ceiling of the HTTP layer and this
 * load generator on this machine, with no runtime behind them. `--verbose` prints the child's pid (for strace/perf) and the window start.
 * `--server-root` runs the server of another checkout under this load generator, and `--json-out`
 * writes each round's numbers to a file: how `bench/tools/compare.ts` sets two commits side by side.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { summariseCpuProfile, type SelfTimeRow } from './support/cpu-profile.js';
import { benchFlow, publishFlow } from './support/flows.js';
import { createHttpClient, type HttpClient } from './support/http-client.js';
import type { HttpRoundSummary } from './support/http-round.js';
import { countRuns } from './support/runs.js';
import { machineSpeedMs } from './support/machine-speed.js';
import { readProcCpuMs } from './support/proc-status.js';
import { sumMetric } from './support/prometheus.js';
import { codeVersion, startServerChild, type ServerChild } from './support/server-child.js';
import { flagArg, fmt, numberArg, percentile, sleep, sortedCopy, stringArg } from './support/stats.js';

const SENDERS = numberArg('senders', 50);
const DURATION_S = numberArg('duration', 15);
const WARMUP_S = numberArg('warmup', 3);
const SYNC_LEVELS = stringArg('sync', 'FULL,NORMAL').split(',').map((s) => s.trim().toUpperCase());
const PROFILE = flagArg('profile') || process.env.BENCH_PROFILE === '1';
const TOP = numberArg('top', 15);
const VERBOSE = flagArg('verbose');
/** `/dev/shm` puts the database on tmpfs: no fsync cost, NOT durable; shows the CPU-bound ceiling. */
const DATA_ROOT = stringArg('data-root', '');
/** Seconds of the same load against a bare Node HTTP server answering at once (0 skips it). */
const BASELINE_S = numberArg('baseline-s', 5);
/** The checkout whose server is measured (default this one). */
const SERVER_ROOT = stringArg('server-root', '');
/** Where to write the rounds' numbers as JSON (`HttpRoundSummary[]`), besides printing them. */
const JSON_OUT = stringArg('json-out', '');
/** A message whose reply has not come after this long counts as lost and ends its sender. */
const REPLY_TIMEOUT_MS = 30_000;
/**
 * How a sender sees its reply: `wait`, the message's POST holds until the reply (one round trip);
 * `poll`, a POST answered 202 then a long-poll GET of the transcript (two).
 */
const EXCHANGE = stringArg('exchange', 'wait');
if (EXCHANGE !== 'wait' && EXCHANGE !== 'poll') throw new Error(`--exchange must be wait or poll, not ${EXCHANGE}`);
/**
 * More published flows beside the bench's, each triggered by a keyword of its own that no sender
 * says: a workspace with many flows, where every message is matched against all of them.
 */
const OTHER_FLOWS = numberArg('other-flows', 0);
/**
 * Senders say the other flows' keywords too, each message the next keyword in turn: every flow
 * runs, as on a server where many workspaces each have their own flows busy.
 */
const SAY_ALL = flagArg('say-all');
const KEYWORDS = ['bench', ...(SAY_ALL ? Array.from({ length: OTHER_FLOWS }, (_, i) => `other-${i + 1}`) : [])];
let said = 0;
const TARGET_RUNS_PER_S = 3_000;
const TARGET_P99_MS = 50;

interface Transcript {
  items: Array<{ seq: number; at: number; message: { text?: string } }>;
  after: number;
}

interface Tally {
  /** Client-seen latency (POST sent -> reply returned to the client) of replies in the window, ms. */
  latencies: number[];
  /** Server-stamped latency (POST sent -> reply stored, by the reply's `at`), ms. */
  storedLatencies: number[];
  /** Replies received in any phase. */
  replies: number;
  lost: number;
  errors: string[];
}

const nowMs = (): number => performance.now();

/** Sends one "bench" (or, with --say-all, the next keyword) as `contact` and waits for the flow's reply; undefined when none came in time. */
async function exchange(
  client: HttpClient,
  contact: string,
  cursor: { after: number },
): Promise<{ latency: number; stored: number } | undefined> {
  const started = nowMs();
  const startedWall = Date.now();
  const body = { contact, text: KEYWORDS[said++ % KEYWORDS.length] };
  let page: Transcript | undefined;
  if (EXCHANGE === 'wait') {
    page = await client.expect<Transcript>(200, 'POST', `/api/simulator/messages?after=${cursor.after}&wait=${REPLY_TIMEOUT_MS}`, body, REPLY_TIMEOUT_MS + 5_000);
  } else {
    await client.expect(202, 'POST', '/api/simulator/messages', body);
  }
  for (;;) {
    if (page) {
      cursor.after = page.after;
      const reply = page.items[0];
      if (reply) return { latency: nowMs() - started, stored: reply.at - startedWall };
    }
    const left = REPLY_TIMEOUT_MS - (nowMs() - started);
    if (left <= 0) return undefined;
    page = await client.expect<Transcript>(
      200,
      'GET',
      `/api/simulator/messages?contact=${encodeURIComponent(contact)}&after=${cursor.after}&wait=${Math.ceil(left)}`,
      undefined,
      left + 5_000,
    );
  }
}

/** One contact sending until the window closes, one message in flight at a time. */
async function sender(
  client: HttpClient,
  contact: string,
  phase: { measureFrom: number; measureTo: number },
  tally: Tally,
): Promise<void> {
  const cursor = { after: 0 };
  while (nowMs() < phase.measureTo) {
    try {
      const result = await exchange(client, contact, cursor);
      if (!result) {
        tally.lost += 1;
        return; // the contact's next reply would be ambiguous: stop this sender
      }
      tally.replies += 1;
      const finished = nowMs();
      if (finished >= phase.measureFrom && finished < phase.measureTo) {
        tally.latencies.push(result.latency);
        tally.storedLatencies.push(result.stored);
      }
    } catch (err) {
      tally.errors.push(err instanceof Error ? err.message : String(err));
      return;
    }
  }
}

interface RoundResult {
  sync: string;
  runsPerS: number;
  windowReplies: number;
  serverDoneInWindow: number;
  serverRunsPerS: number;
  /** Server CPU time (all threads) per run ended in the window: less sensitive to a busy machine. */
  serverCpuMsPerRun: number;
  /** How long GET /healthz took during the window: the server's event-loop responsiveness. */
  healthP50: number;
  healthMax: number;
  /** The server's event-loop delay (prom-client's monitorEventLoopDelay) over the load, ms. */
  lag: { p50: number; p99: number; max: number };
  p50: number;
  p99: number;
  max: number;
  storedP50: number;
  storedP99: number;
  serverCores: number;
  clientCores: number;
  tally: Tally;
  /** 1-minute load average before and after: other work on the machine skews every number. */
  load: string;
  totalDone: number;
  effectErrors: number;
  profile?: { file: string; fromUs: number; toUs: number };
}

/** A round's headline numbers, for `--json-out`; `code` is the commit the server ran. */
function summaryOf(r: RoundResult, code: string): HttpRoundSummary {
  return {
    sync: r.sync,
    code,
    runsPerS: r.runsPerS,
    p50: r.p50,
    p99: r.p99,
    serverCpuMsPerRun: r.serverCpuMsPerRun,
    load: r.load,
    ok: problemsOf(r).length === 0,
  };
}

/** GET /healthz every 250 ms (one at a time) until `until`; the durations, ms. */
async function probeHealth(client: HttpClient, until: number): Promise<number[]> {
  const durations: number[] = [];
  while (nowMs() < until) {
    const started = nowMs();
    const res = await client.send('GET', '/healthz');
    if (res.status === 200) durations.push(nowMs() - started);
    await sleep(Math.max(0, 250 - (nowMs() - started)));
  }
  return durations;
}

async function metricsText(client: HttpClient): Promise<string> {
  const res = await client.send<string>('GET', '/metrics');
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.body;
}

async function round(sync: string, profile: boolean): Promise<RoundResult> {
  const server: ServerChild = await startServerChild({
    env: { SQLITE_SYNCHRONOUS: sync },
    cpuProfile: profile,
    ...(DATA_ROOT ? { dataRoot: DATA_ROOT } : {}),
    ...(SERVER_ROOT ? { root: SERVER_ROOT } : {}),
  });
  const client = createHttpClient(server.base, server.adminKey, SENDERS + 8);
  if (VERBOSE) console.error(`server child pid ${server.pid}, data in ${server.dataDir}`);
  try {
    await publishFlow(client, benchFlow());
    for (let i = 1; i <= OTHER_FLOWS; i += 1) await publishFlow(client, benchFlow(`other-${i}`));
    // One message first: proves the flow answers before the load starts.
    if (!(await exchange(client, 'bench-probe', { after: 0 }))) throw new Error('the bench flow did not answer in time');

    const tally: Tally = { latencies: [], storedLatencies: [], replies: 0, lost: 0, errors: [] };
    const t0 = nowMs();
    const phase = { measureFrom: t0 + WARMUP_S * 1_000, measureTo: t0 + (WARMUP_S + DURATION_S) * 1_000 };
    const senders = Array.from({ length: SENDERS }, (_, i) => sender(client, `bench-${i}`, phase, tally));

    // prom-client resets its event-loop-delay histogram at each scrape: this one starts the window.
    const lagReset = metricsText(client);
    await sleep(Math.max(0, phase.measureFrom - nowMs()));
    // Nothing awaited between the samples and the window's edges: under load an HTTP call to the
    // server can take seconds, so the window is read from /proc and the clocks, not from /metrics.
    const loadBefore = loadavg()[0] as number;
    const fromUs = Number(process.hrtime.bigint() / 1_000n);
    const fromWall = Date.now();
    const serverCpuBefore = readProcCpuMs(server.pid);
    const clientCpuBefore = process.cpuUsage();
    const wallBefore = nowMs();
    if (VERBOSE) console.error(`measuring for ${DURATION_S} s`);
    const health = probeHealth(client, phase.measureTo);
    await sleep(Math.max(0, phase.measureTo - nowMs()));
    const wall = nowMs() - wallBefore;
    const serverCpu = readProcCpuMs(server.pid) - serverCpuBefore;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const toUs = Number(process.hrtime.bigint() / 1_000n);
    const toWall = Date.now();

    // Drain: every sender finishes the message it has in flight (bounded by REPLY_TIMEOUT_MS).
    await Promise.all(senders);
    await lagReset;
    const lagText = await metricsText(client);
    const lag = {
      p50: sumMetric(lagText, 'nodejs_eventloop_lag_p50_seconds') * 1_000,
      p99: sumMetric(lagText, 'nodejs_eventloop_lag_p99_seconds') * 1_000,
      max: sumMetric(lagText, 'nodejs_eventloop_lag_max_seconds') * 1_000,
    };
    const healthMs = sortedCopy(await health);
    // A run ends a moment after its reply is visible (the send's completion is journaled first).
    const expectedDone = tally.replies + 1;
    let finalMetrics = await metricsText(client);
    const settleBy = nowMs() + 60_000;
    while (sumMetric(finalMetrics, 'convoflow_runs_ended_total', { status: 'done' }) < expectedDone && nowMs() < settleBy) {
      await sleep(200);
      finalMetrics = await metricsText(client);
    }
    const serverDoneInWindow = await countRuns(client, { status: 'done' }, (run) =>
      run.endedAt !== undefined && run.endedAt >= fromWall && run.endedAt < toWall,
    );

    const sorted = sortedCopy(tally.latencies);
    const stored = sortedCopy(tally.storedLatencies);
    const windowS = DURATION_S;
    const result: RoundResult = {
      sync,
      runsPerS: tally.latencies.length / windowS,
      windowReplies: tally.latencies.length,
      serverDoneInWindow,
      serverRunsPerS: (serverDoneInWindow * 1_000) / (toWall - fromWall),
      lag,
      healthP50: percentile(healthMs, 50),
      healthMax: healthMs.length ? (healthMs[healthMs.length - 1] as number) : NaN,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : NaN,
      storedP50: percentile(stored, 50),
      storedP99: percentile(stored, 99),
      serverCores: serverCpu / wall,
      serverCpuMsPerRun: serverCpu / Math.max(1, serverDoneInWindow),
      clientCores: (clientCpu.user + clientCpu.system) / 1_000 / wall,
      tally,
      load: `${fmt(loadBefore, 1)} -> ${fmt(loadavg()[0] as number, 1)}`,
      totalDone: sumMetric(finalMetrics, 'convoflow_runs_ended_total', { status: 'done' }),
      effectErrors: sumMetric(finalMetrics, 'convoflow_effects_total', { result: 'error' }),
    };
    client.close();
    const file = await server.stop();
    if (profile && file) result.profile = { file, fromUs, toUs };
    return result;
  } catch (err) {
    client.close();
    await server.stop();
    throw err;
  }
}

/**
 * The same senders against `bench/support/baseline-server.ts`: Node's HTTP server with the two routes and
 * no work. What the HTTP layer and this load generator manage on this machine by themselves.
 */
async function baselineRound(): Promise<void> {
  const server = await startServerChild({ baseline: true });
  const client = createHttpClient(server.base, server.adminKey, SENDERS + 8);
  try {
    const tally: Tally = { latencies: [], storedLatencies: [], replies: 0, lost: 0, errors: [] };
    const t0 = nowMs();
    const phase = { measureFrom: t0 + 1_000, measureTo: t0 + 1_000 + BASELINE_S * 1_000 };
    const senders = Array.from({ length: SENDERS }, (_, i) => sender(client, `base-${i}`, phase, tally));
    await sleep(Math.max(0, phase.measureFrom - nowMs()));
    const serverCpuBefore = readProcCpuMs(server.pid);
    const clientCpuBefore = process.cpuUsage();
    const wallBefore = nowMs();
    await sleep(Math.max(0, phase.measureTo - nowMs()));
    const wall = nowMs() - wallBefore;
    const serverCores = (readProcCpuMs(server.pid) - serverCpuBefore) / wall;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    await Promise.all(senders);
    const sorted = sortedCopy(tally.latencies);
    console.log(
      `http baseline: bare Node HTTP server, same ${SENDERS} senders (${EXCHANGE === 'wait' ? 'POST answered with its reply at once' : 'POST 202 + GET answered at once'}), ${BASELINE_S} s:` +
        ` ${fmt(tally.latencies.length / BASELINE_S)} exchanges/s, p50 ${ms(percentile(sorted, 50))} ms, p99 ${ms(percentile(sorted, 99))} ms;` +
        ` CPU: server ${fmt(serverCores, 2)} cores, load generator ${fmt((clientCpu.user + clientCpu.system) / 1_000 / wall, 2)} cores` +
        `${tally.errors.length ? `; ${tally.errors.length} errors (first: ${tally.errors[0]})` : ''}`,
    );
  } finally {
    client.close();
    await server.stop();
  }
}

const verdict = (ok: boolean): string => (ok ? 'PASS' : 'BELOW TARGET');
const ms = (n: number): string => (Number.isNaN(n) ? '-' : n < 10 ? fmt(n, 1) : fmt(n, 0));

function report(r: RoundResult): void {
  const durability = r.sync === 'FULL' ? 'every acknowledged message durable' : 'safe against a killed process, not power loss';
  console.log(
    `http: SQLITE_SYNCHRONOUS=${r.sync} (${durability}), ${SENDERS} senders, ${DURATION_S} s after ${WARMUP_S} s warm-up,` +
      ` data on ${DATA_ROOT || tmpdir()}${DATA_ROOT.startsWith('/dev/shm') ? ' (tmpfs: fsync is free, not durable)' : ''}; load average ${r.load}`,
  );
  console.log(
    `  runs/s: ${fmt(r.runsPerS)}  (${fmt(r.windowReplies)} replies in the window; the server ended ${fmt(r.serverDoneInWindow)} runs done in it: ${fmt(r.serverRunsPerS)}/s)` +
      `  target >= ${fmt(TARGET_RUNS_PER_S)}  ${verdict(r.runsPerS >= TARGET_RUNS_PER_S)}`,
  );
  console.log(
    `  inbound->outbound latency (POST sent -> reply returned to the client): p50 ${ms(r.p50)} ms  p99 ${ms(r.p99)} ms  max ${ms(r.max)} ms` +
      `  target p99 < ${TARGET_P99_MS} ms  ${verdict(r.p99 < TARGET_P99_MS)}`,
  );
  console.log(`  inbound->reply stored (server's timestamp on the reply, ms clock): p50 ${ms(r.storedP50)} ms  p99 ${ms(r.storedP99)} ms`);
  console.log(
    `  server responsiveness: GET /healthz every 250 ms took p50 ${ms(r.healthP50)} ms, max ${ms(r.healthMax)} ms;` +
      ` event-loop delay p50 ${ms(r.lag.p50)} ms, p99 ${ms(r.lag.p99)} ms, max ${ms(r.lag.max)} ms`,
  );
  console.log(
    `  CPU: server ${fmt(r.serverCores, 2)} cores, load generator ${fmt(r.clientCores, 2)} cores (of ${cpus().length});` +
      ` server CPU per run ${fmt(r.serverCpuMsPerRun, 2)} ms (a CPU-bound ceiling of ~${fmt(1_000 / r.serverCpuMsPerRun)} runs/s per core)`,
  );
  const problems = problemsOf(r);
  console.log(`  check: ${problems.length ? problems.join('; ') : `every message answered once (${fmt(r.tally.replies)} runs, server agrees)`}`);
}

/** What went wrong in a round beside speed: lost replies, errors, counters that disagree. */
function problemsOf(r: RoundResult): string[] {
  return [
    r.tally.lost ? `${r.tally.lost} replies never came` : '',
    r.tally.errors.length ? `${r.tally.errors.length} request errors (first: ${r.tally.errors[0]})` : '',
    r.effectErrors ? `${r.effectErrors} effects failed` : '',
    // +1: the probe message before the load.
    r.totalDone !== r.tally.replies + 1 ? `server ended ${fmt(r.totalDone)} runs done for ${fmt(r.tally.replies + 1)} replies` : '',
  ].filter(Boolean);
}

function printRows(title: string, rows: SelfTimeRow[], busyMs: number): void {
  console.log(title);
  for (const row of rows.slice(0, TOP)) {
    console.log(`  ${fmt(row.ms).padStart(7)} ms  ${fmt(row.share * 100, 1).padStart(5)}%  ${row.name}`);
  }
  if (rows.length === 0) console.log(`  (nothing sampled in ${fmt(busyMs)} ms)`);
}

async function main(): Promise<void> {
  const code = codeVersion(SERVER_ROOT || undefined);
  console.log(`http: code ${code}, node ${process.version}, ${cpus().length} cores, machine speed ${fmt(machineSpeedMs(), 0)} ms (fixed JS loop, lower is faster)`);
  const results: RoundResult[] = [];
  for (const [i, sync] of SYNC_LEVELS.entries()) {
    if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error(`--sync: FULL or NORMAL, got "${sync}"`);
    const result = await round(sync, PROFILE && i === 0);
    results.push(result);
    report(result);
  }
  if (BASELINE_S > 0) await baselineRound();
  for (const r of results) {
    if (!r.profile) continue;
    const summary = summariseCpuProfile(r.profile.file, { fromUs: r.profile.fromUs, toUs: r.profile.toUs });
    const sampled = summary.busyMs + summary.idleMs;
    console.log(
      `\nserver CPU profile, SQLITE_SYNCHRONOUS=${r.sync}, measured window only: busy ${fmt(summary.busyMs)} ms, idle ${fmt(summary.idleMs)} ms` +
        ` (${fmt((summary.busyMs / Math.max(1, sampled)) * 100)}% of the main thread)  [${r.profile.file}]`,
    );
    printRows(`top ${TOP} frames by self time:`, summary.functions, summary.busyMs);
    printRows('self time by area:', summary.areas, summary.busyMs);
    printRows(`our functions by inclusive time:`, summary.oursInclusive, summary.busyMs);
  }
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results.map((r) => summaryOf(r, code)), null, 2));
  const failed = results.some((r) => r.tally.errors.length > 0 || r.tally.lost > 0);
  if (failed) process.exitCode = 1;
}

await main();
