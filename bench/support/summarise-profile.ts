/**
 * Prints where a `.cpuprofile` spent its time (top frames by self time, areas, our functions by
 * inclusive time), positions mapped back to the TypeScript through tsx's cache:
 *
 *   node --import tsx bench/support/summarise-profile.ts /tmp/convoflow-server-1234.cpuprofile [--top 25]
 */
import { summariseCpuProfile, type SelfTimeRow } from './cpu-profile.js';
import { fmt, numberArg } from './stats.js';

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  console.error('usage: node --import tsx bench/support/summarise-profile.ts FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = numberArg('top', 25);
const summary = summariseCpuProfile(file);
const print = (title: string, rows: SelfTimeRow[]): void => {
  console.log(title);
  for (const row of rows.slice(0, top)) console.log(`  ${fmt(row.ms).padStart(7)} ms  ${fmt(row.share * 100, 1).padStart(5)}%  ${row.name}`);
};
console.log(`${file}: busy ${fmt(summary.busyMs)} ms, idle ${fmt(summary.idleMs)} ms (whole profile)`);
print('by self time:', summary.functions);
print('by area:', summary.areas);
print('our functions by inclusive time:', summary.oursInclusive);
