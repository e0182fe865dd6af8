/**
 * Sets this checkout's runtime-server against another commit's under the same HTTP load, in
 * interleaved pairs: on a shared virtual machine the speed of the same code swings by a third
 * within minutes, so one run of each says little, and two runs in a fixed order say less.
 *
 * The other commit is checked out in a temporary git worktree that shares this checkout's
 * node_modules, except that its workspace packages (@convoflow/*) are its own. Both servers are
 * driven by this checkout's `bench/http.ts` (`--server-root`), one durability level, no baseline;
 * the order within a pair alternates (base first, then this checkout first).
 *
 *   node --import tsx bench/tools/compare.ts <rev> [--pairs 10] [--duration 6] [--warmup 2] [--sync FULL]
 *                                            [--exchange wait|poll]
 *
 * Prints each run, each pair's ratios (this checkout over the base: runs/s, and server CPU per run,
 * lower better), then the medians of those ratios and how many pairs went each way. Dependencies
 * are this checkout's: a commit that changed package.json is not compared fairly.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRoundSummary } from '../support/http-round.js';
import { fmt, median, numberArg, stringArg } from '../support/stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAIRS = numberArg('pairs', 10);
const DURATION_S = numberArg('duration', 6);
const WARMUP_S = numberArg('warmup', 2);
const SYNC = stringArg('sync', 'FULL').toUpperCase();
/** bench/http.ts's `--exchange`: `poll` for a base commit whose POST cannot wait for its reply (before the one-round-trip form). */
const EXCHANGE = stringArg('exchange', 'wait');

/** The bench round in progress: an interrupted comparison stops it (it stops its server). */
let running: ChildProcess | undefined;

/** A worktree of `rev` whose node_modules is this checkout's, but for its own workspace packages. */
function checkOut(rev: string, dir: string): void {
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', dir, rev], { cwd: ROOT, stdio: 'inherit' });
  const modules = join(ROOT, 'node_modules');
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(modules)) {
    if (name === '@convoflow') continue;
    symlinkSync(join(modules, name), join(dir, 'node_modules', name));
  }
  // The workspace links are relative (`../../engine`): copied as they are, they point into `dir`.
  mkdirSync(join(dir, 'node_modules', '@convoflow'));
  for (const name of readdirSync(join(modules, '@convoflow'))) {
    symlinkSync(readlinkSync(join(modules, '@convoflow', name)), join(dir, 'node_modules', '@convoflow', name));
  }
}

function removeWorktree(dir: string): void {
  try {
    execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('git', ['worktree', 'prune'], { cwd: ROOT, stdio: 'ignore' });
  }
}

/** One `bench/http.ts` round against the server of `serverRoot`. */
async function measure(serverRoot: string, out: string): Promise<HttpRoundSummary> {
  const args = ['--import', 'tsx', join(ROOT, 'bench', 'http.ts'), '--sync', SYNC, '--duration', String(DURATION_S), '--warmup', String(WARMUP_S)];
  args.push('--baseline-s', '0', '--exchange', EXCHANGE, '--server-root', serverRoot, '--json-out', out);
  const code = await new Promise<number>((resolve) => {
    running = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    running.on('exit', (c) => resolve(c ?? 1));
  });
  running = undefined;
  if (code !== 0 || !existsSync(out)) throw new Error(`bench/http.ts against ${serverRoot} failed (exit ${code})`);
  const [round] = JSON.parse(readFileSync(out, 'utf8')) as HttpRoundSummary[];
  rmSync(out);
  if (!round) throw new Error(`bench/http.ts against ${serverRoot} wrote no round`);
  if (!round.ok) throw new Error(`bench/http.ts against ${serverRoot}: a reply was lost or the counters disagree`);
  return round;
}

const line = (side: string, r: HttpRoundSummary): string =>
  `${side.padEnd(5)} ${r.code.padEnd(9)} ${fmt(r.runsPerS).padStart(6)} runs/s  p50 ${fmt(r.p50, 0).padStart(3)} ms  p99 ${fmt(r.p99, 0).padStart(3)} ms` +
  `  CPU/run ${fmt(r.serverCpuMsPerRun, 2)} ms  load ${r.load}`;

async function main(): Promise<void> {
  const rev = process.argv.slice(2).find((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!rev) throw new Error('usage: compare.ts <rev> [--pairs 10] [--duration 6] [--warmup 2] [--sync FULL] [--exchange wait|poll]');
  if (SYNC !== 'FULL' && SYNC !== 'NORMAL') throw new Error(`--sync: FULL or NORMAL, got "${SYNC}"`);
  const sha = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const scratch = mkdtempSync(join(tmpdir(), 'convoflow-compare-'));
  const base = join(scratch, 'base');
  const removeOnSignal = (): void => {
    running?.kill('SIGINT');
    removeWorktree(base);
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', removeOnSignal);
  try {
    checkOut(sha, base);
    console.log(`compare: base ${sha.slice(0, 7)} against this checkout, ${PAIRS} pairs, SQLITE_SYNCHRONOUS=${SYNC}, ${DURATION_S} s after ${WARMUP_S} s each`);
    const speed: number[] = [];
    const cpu: number[] = [];
    for (let pair = 1; pair <= PAIRS; pair++) {
      const sides = pair % 2 === 1 ? (['base', 'head'] as const) : (['head', 'base'] as const);
      const rounds: Partial<Record<'base' | 'head', HttpRoundSummary>> = {};
      for (const side of sides) {
        const round = await measure(side === 'base' ? base : ROOT, join(scratch, `${side}.json`));
        rounds[side] = round;
        console.log(`  ${String(pair).padStart(2)} ${line(side, round)}`);
      }
      const { base: b, head: h } = rounds as Record<'base' | 'head', HttpRoundSummary>;
      speed.push(h.runsPerS / b.runsPerS);
      cpu.push(h.serverCpuMsPerRun / b.serverCpuMsPerRun);
      console.log(`     head/base: runs/s x${fmt(speed.at(-1)!, 2)}, CPU per run x${fmt(cpu.at(-1)!, 2)}`);
    }
    const faster = speed.filter((r) => r > 1).length;
    console.log(
      `compare: head/base over ${PAIRS} pairs: runs/s median x${fmt(median(speed), 3)} (faster in ${faster}, slower in ${PAIRS - faster}),` +
        ` CPU per run median x${fmt(median(cpu), 3)} (lower is better)`,
    );
  } finally {
    process.off('SIGINT', removeOnSignal);
    removeWorktree(base);
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
