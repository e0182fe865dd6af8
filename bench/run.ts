/**
 * Runs every benchmark in `bench/` (each `*.ts` but this file and scratch files starting with `_`
 * or `.`), one after the other, each in its own process so none warms up or slows down another,
 * and prints their output as it comes.
 *
 *   npm run bench                 # all of them
 *   npm run bench -- engine       # only those whose file name contains "engine"
 *   npm run bench -- engine http  # several filters: a file runs if it matches any
 *
 * Exits 1 when a benchmark fails (not when it misses a target: targets are printed, not enforced).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));

const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== self && !f.endsWith('.d.ts') && !/^[_.]/.test(f))
  .filter((f) => filters.length === 0 || filters.some((filter) => f.includes(filter)))
  .sort();

function runOne(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', join(here, file)], { stdio: 'inherit', cwd: join(here, '..') });
    child.on('error', (err) => {
      console.error(`bench/${file}: could not start: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  if (benches.length === 0) {
    console.error(`no benchmark in bench/ matches ${filters.map((f) => `"${f}"`).join(' or ')}`);
    process.exit(1);
  }
  const failed: string[] = [];
  for (const file of benches) {
    console.log(`\n== bench/${file}`);
    const started = process.hrtime.bigint();
    const code = await runOne(file);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`== bench/${file}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${seconds.toFixed(1)} s`);
    if (code !== 0) failed.push(file);
  }
  if (failed.length > 0) {
    console.error(`\nfailed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

await main();
