import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** The real server (`runtime-server/src/server.ts`) running as a child process. */
export interface ChildServer {
  proc: ChildProcess;
  baseUrl: string;
  /** Everything it printed, for the failure message of a test. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the server exactly as `npm start` does, on the given environment, and resolves once it
 * prints the address it listens on.
 */
export async function startChildServer(
  env: Record<string, string>,
  timeoutMs = 60_000,
  /** A command that runs the server in its turn (`prlimit --fsize=N --`), keeping its pid. */
  wrapper: string[] = [],
): Promise<ChildServer> {
  const [command, ...args] = [...wrapper, process.execPath, '--import', 'tsx', 'runtime-server/src/server.ts'];
  const proc = spawn(command!, args, {
    cwd: REPO,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const match = /running at (http:\/\/[^\s]+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    proc,
    baseUrl,
    output: () => out,
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}
