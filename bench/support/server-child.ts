/**
 * Starts the real runtime-server (`runtime-server/src/server.ts`) as a child process on a temp
 * data directory and a free loopback port, the way `npm start` does, and stops it again: the
 * benchmarks that speak HTTP measure the product as deployed, not an in-process app.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverEntry = (root: string): string => join(root, 'runtime-server', 'src', 'server.ts');
const BASELINE_ENTRY = join(ROOT, 'bench', 'support', 'baseline-server.ts');

/** The admin key the benches seed the demo workspace with (`cf_` + 43 characters). */
export const BENCH_ADMIN_KEY = `cf_${'b'.repeat(43)}`;

/** A running server child. */
export interface ServerChild {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly port: number;
  /** The child's pid: the node process itself (no wrapper), so `/proc/<pid>` is the server. */
  readonly pid: number;
  readonly adminKey: string;
  readonly dataDir: string;
  /** Where `--cpu-prof` writes, when profiling was asked for. */
  readonly profileDir?: string;
  /** Whatever the child wrote to stderr so far (last 64 KiB). */
  stderr(): string;
  /**
   * SIGTERM (graceful: drains and closes the store, and writes the CPU profile), SIGKILL after
   * `graceMs`. Returns the `.cpuprofile` path when profiling; removes the data directory.
   */
  stop(graceMs?: number): Promise<string | undefined>;
}

export interface ServerChildOptions {
  /** Extra environment (e.g. `SQLITE_SYNCHRONOUS`). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the whole child (read it with `summariseCpuProfile`). */
  cpuProfile?: boolean;
  /** Extra node flags for the child (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  nodeArgs?: string[];
  /** Where to make the temp data directory (default the OS temp dir, on this machine's disk). */
  dataRoot?: string;
  /** How long to wait for `/healthz`. */
  startTimeoutMs?: number;
  /** Start `bench/support/baseline-server.ts` (a bare Node HTTP server) instead of the product. */
  baseline?: boolean;
  /** The checkout whose server runs (default this one): another commit's, to compare the two. */
  root?: string;
}

/** A port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
// A bench that throws or is interrupted must not leave a server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    process.exit(130);
  });
}

/**
 * Spawns `node --import tsx runtime-server/src/server.ts` with a temp `DATA_DIR`, a free `PORT`,
 * `LOG_LEVEL=warn` and the demo workspace seeded with {@link BENCH_ADMIN_KEY}, and resolves once
 * `/healthz` answers.
 *
 * @example
 * const server = await startServerChild({ env: { SQLITE_SYNCHRONOUS: 'NORMAL' } });
 * try { ... } finally { await server.stop(); }
 */
export async function startServerChild(options: ServerChildOptions = {}): Promise<ServerChild> {
  const dataDir = mkdtempSync(join(options.dataRoot ?? tmpdir(), 'convoflow-bench-'));
  const profileDir = options.cpuProfile ? join(dataDir, 'profile') : undefined;
  const port = await freePort();
  const nodeArgs = ['--import', 'tsx', ...(options.nodeArgs ?? []), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), options.baseline ? BASELINE_ENTRY : serverEntry(options.root ?? ROOT)];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: options.root ?? ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SEED_DEMO: '1',
      CONVOFLOW_ADMIN_KEY: BENCH_ADMIN_KEY,
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-65_536);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => live.delete(child)).catch(() => undefined);

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let up = false;
  while (!up && Date.now() < deadline && child.exitCode === null) {
    try {
      up = (await fetch(`${base}/healthz`)).ok;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!up) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`the server child did not come up at ${base}:\n${stderr}`);
  }

  return {
    base,
    port,
    pid: child.pid as number,
    adminKey: BENCH_ADMIN_KEY,
    dataDir,
    ...(profileDir ? { profileDir } : {}),
    stderr: () => stderr,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
      }
      let profile: string | undefined;
      if (profileDir) {
        const file = readdirSync(profileDir, { withFileTypes: true }).find((f) => f.name.endsWith('.cpuprofile'));
        if (file) {
          // Keep the profile out of the data dir we are about to remove.
          const kept = join(tmpdir(), `convoflow-server-${child.pid}.cpuprofile`);
          copyFileSync(join(profileDir, file.name), kept);
          profile = kept;
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
      return profile;
    },
  };
}

/**
 * Which code a measurement ran: the commit of checkout `root` (default this one), plus
 * `+dirty (files)` when runtime-server, engine or nodes have uncommitted changes (other people edit
 * the tree while benches run).
 */
export function codeVersion(root = ROOT): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'runtime-server/src', 'engine/src', 'nodes/src'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean).length;
    return dirty ? `${head}+dirty (${dirty} files)` : head;
  } catch {
    return 'unknown (no git)';
  }
}
