/**
 * Memory of the runtime-server with many runs waiting for a reply (target: 100,000 runs under
 * 300 MB RSS). The real server (`runtime-server/src/server.ts`) runs as a child process; this
 * process publishes a flow whose first node is `ask_question` (text, 7-day timeout) and has
 * `--runs` distinct simulator contacts (100,000) say its keyword, `--concurrency` POSTs in flight
 * (64). Each POST is journaled; the server then starts the run, asks the question, schedules the
 * reply timeout and leaves the run waiting.
 *
 * Runs are created in batches of `--batch` (10,000) with the child's RSS read from
 * `/proc/<pid>/status` after each. Once all are created the bench waits until the server is idle
 * (every question sent, every timeout scheduled, and `GET /api/runs?status=waiting` counting all
 * of them), reads VmRSS, waits `--idle-s` (30) more with no traffic and reads it again.
 *
 * Creating runs over HTTP is bounded by `--budget-s` (1,200): if the server cannot take them that
 * fast, the bench stops early, measures what it has, and prints the RSS per waiting run and its
 * extrapolation to the target count beside the real measurement, clearly marked as such.
 *
 *   node --import tsx bench/waiting-rss.ts [--runs 100000] [--concurrency 64] [--batch 10000]
 *                                          [--budget-s 1200] [--idle-s 30] [--sync NORMAL]
 *                                          [--data-root DIR]
 *
 * SQLITE_SYNCHRONOUS defaults to NORMAL here: durability does not change what is held in memory,
 * and FULL's WAL syncs only slow the intake down (see bench/http.ts for what FULL costs).
 */
import { loadavg } from 'node:os';
import { machineSpeedMs } from './support/machine-speed.js';
import { waitingFlow, publishFlow } from './support/flows.js';
import { createHttpClient, type HttpClient } from './support/http-client.js';
import { readProcMemory, type ProcMemory } from './support/proc-status.js';
import { sumMetric } from './support/prometheus.js';
import { countRuns } from './support/runs.js';
import { codeVersion, startServerChild, type ServerChild } from './support/server-child.js';
import { fmt, numberArg, sleep, stringArg } from './support/stats.js';

const RUNS = numberArg('runs', 100_000);
const CONCURRENCY = numberArg('concurrency', 64);
const BATCH = numberArg('batch', 10_000);
const BUDGET_S = numberArg('budget-s', 1_200);
const IDLE_S = numberArg('idle-s', 30);
const SYNC = stringArg('sync', 'NORMAL').toUpperCase();
const DATA_ROOT = stringArg('data-root', '');
/** How long to wait, after the last POST, for the server to work through its backlog. */
const SETTLE_TIMEOUT_S = numberArg('settle-s', 1_800);
const TARGET_MB = 300;
const KEYWORD = 'wait';
const FLOW_ID = 'bench-waiting';

const nowMs = (): number => performance.now();
const mb = (n: number): string => fmt(n, 1);

/** POSTs "wait" as contacts `from`..`to`-1, `CONCURRENCY` at a time, until done or `deadline`. */
async function createRuns(client: HttpClient, from: number, to: number, deadline: number): Promise<number> {
  let next = from;
  let accepted = 0;
  const worker = async (): Promise<void> => {
    while (next < to && nowMs() < deadline) {
      const i = next++;
      await client.expect(202, 'POST', '/api/simulator/messages', { contact: `rss-${i}`, text: KEYWORD, messageId: `rss-${i}` });
      accepted += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return accepted;
}

/** The child's own view of its memory (prom-client default metrics), MB. */
async function heap(client: HttpClient): Promise<string> {
  const text = await client.expect<string>(200, 'GET', '/metrics', undefined, 120_000);
  const m = (name: string): string => mb(sumMetric(text, name) / 1024 / 1024);
  return `V8 heap used ${m('nodejs_heap_size_used_bytes')} of ${m('nodejs_heap_size_total_bytes')} MB, external ${m('nodejs_external_memory_bytes')} MB`;
}

async function metrics(client: HttpClient): Promise<{ asked: number; scheduled: number; failed: number }> {
  const text = await client.expect<string>(200, 'GET', '/metrics', undefined, 120_000);
  return {
    asked: sumMetric(text, 'convoflow_effects_total', { type: 'sendMessage', result: 'ok' }),
    scheduled: sumMetric(text, 'convoflow_effects_total', { type: 'scheduleTimer', result: 'ok' }),
    failed: sumMetric(text, 'convoflow_effects_total', { result: 'error' }),
  };
}

/**
 * Waits until every created run has asked its question and scheduled its timeout (the server's
 * own counters), then until the API counts them all as waiting. Returns the waiting count.
 */
async function settle(client: HttpClient, created: number, deadline: number): Promise<number> {
  for (;;) {
    const m = await metrics(client);
    if (m.failed > 0) throw new Error(`${m.failed} effects failed on the server`);
    if (m.asked >= created && m.scheduled >= created) break;
    if (nowMs() > deadline) throw new Error(`not idle in time: ${m.asked} questions sent, ${m.scheduled} timeouts scheduled of ${created}`);
    await sleep(1_000);
  }
  for (;;) {
    const waiting = await countRuns(client, { flowId: FLOW_ID, status: 'waiting' });
    if (waiting >= created || nowMs() > deadline) return waiting;
    await sleep(2_000);
  }
}

function line(label: string, m: ProcMemory): string {
  return `${label}: RSS ${mb(m.rssMb)} MB (peak ${mb(m.peakRssMb)} MB)`;
}

async function main(): Promise<void> {
  if (SYNC !== 'FULL' && SYNC !== 'NORMAL') throw new Error(`--sync: FULL or NORMAL, got "${SYNC}"`);
  const server: ServerChild = await startServerChild({
    env: { SQLITE_SYNCHRONOUS: SYNC },
    ...(DATA_ROOT ? { dataRoot: DATA_ROOT } : {}),
  });
  const client = createHttpClient(server.base, server.adminKey, CONCURRENCY + 4);
  try {
    await publishFlow(client, waitingFlow(KEYWORD, 'P7D'));
    await sleep(1_000);
    const baseline = readProcMemory(server.pid);
    console.log(`rss: code ${codeVersion()}, machine speed ${fmt(machineSpeedMs(), 0)} ms, server child pid ${server.pid}, SQLITE_SYNCHRONOUS=${SYNC}, load average ${fmt(loadavg()[0] as number, 1)}`);
    console.log(`  ${line('started, flow published, 0 runs', baseline)}; ${await heap(client)}`);

    const started = nowMs();
    const deadline = started + BUDGET_S * 1_000;
    let created = 0;
    while (created < RUNS && nowMs() < deadline) {
      const batchStarted = nowMs();
      const accepted = await createRuns(client, created, Math.min(RUNS, created + BATCH), deadline);
      created += accepted;
      const seconds = (nowMs() - batchStarted) / 1_000;
      const m = readProcMemory(server.pid);
      console.log(
        `  ${fmt(created).padStart(7)} messages accepted (${fmt(accepted / seconds)}/s in this batch): RSS ${mb(m.rssMb)} MB (peak ${mb(m.peakRssMb)} MB); ${await heap(client)}`,
      );
    }
    const postSeconds = (nowMs() - started) / 1_000;
    console.log(`  ${fmt(created)} messages accepted in ${fmt(postSeconds)} s (${fmt(created / postSeconds)}/s); waiting for the server to process them...`);

    const waiting = await settle(client, created, nowMs() + SETTLE_TIMEOUT_S * 1_000);
    const totalSeconds = (nowMs() - started) / 1_000;
    const rate = waiting / totalSeconds;
    const idle = readProcMemory(server.pid);
    console.log(`  ${fmt(waiting)} runs waiting after ${fmt(totalSeconds)} s (${fmt(rate)} runs/s end to end)`);
    console.log(`  ${line('all processed', idle)}; ${await heap(client)}`);
    await sleep(IDLE_S * 1_000);
    const rested = readProcMemory(server.pid);
    console.log(`  ${line(`after ${IDLE_S} s more without traffic`, rested)}; ${await heap(client)}`);

    const rss = Math.max(idle.rssMb, rested.rssMb);
    if (waiting >= RUNS) {
      console.log(
        `rss: ${fmt(waiting)} runs waiting for a reply: RSS=${mb(rested.rssMb)} MB after idle (${mb(idle.rssMb)} MB when the backlog was done, peak ${mb(rested.peakRssMb)} MB)` +
          ` (target < ${TARGET_MB} MB) ${rss < TARGET_MB ? 'PASS' : 'ABOVE'}`,
      );
    } else {
      const perRunKb = ((rss - baseline.rssMb) * 1024) / Math.max(1, waiting);
      const projected = baseline.rssMb + (perRunKb * RUNS) / 1024;
      const needMin = RUNS / Math.max(rate, 1e-9) / 60;
      console.log(
        `rss: ${fmt(waiting)} runs waiting for a reply (of ${fmt(RUNS)} asked: at ${fmt(rate)} runs/s over HTTP the rest would take ${fmt(needMin)} min):` +
          ` RSS=${mb(rested.rssMb)} MB; ${fmt(perRunKb, 2)} KB per waiting run over the ${mb(baseline.rssMb)} MB baseline,` +
          ` so at most ~${mb(projected)} MB EXTRAPOLATED linearly to ${fmt(RUNS)} (an upper bound: the growth includes V8 garbage not yet collected)` +
          ` (target < ${TARGET_MB} MB) ${projected < TARGET_MB ? 'PASS' : 'ABOVE'} (extrapolated)`,
      );
    }
  } finally {
    client.close();
    await server.stop();
  }
}

await main();
