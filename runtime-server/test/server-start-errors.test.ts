import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npm start`'s entry on `env` until it exits; what it printed and its exit code. */
function runServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'runtime-server/src/server.ts'], {
    cwd: REPO,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', MONGODB_URI: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
}

describe('starting with settings that cannot work', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-start-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should exit 2 naming a bad variable, in one line', async () => {
    const { code, stderr } = await runServer({ SQLITE_SYNCHRONOUS: 'sometimes', DATA_DIR: dir });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('convoflow: bad configuration: SQLITE_SYNCHRONOUS: expected FULL or NORMAL, got "SOMETIMES"');
  });

  it('should exit 1 saying which database cannot be opened and why, without a stack trace', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const { code, stderr } = await runServer({ DATA_DIR: file });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `convoflow: failed to start: The SQLite database ${join(file, 'convoflow.db')} cannot be opened: ${file} exists and is not a directory (DATA_DIR must name a directory this process can write)`,
    );
  });

  it('should exit 1 saying the database file is not one, without a stack trace, and leave the file alone', async () => {
    const dataDir = join(dir, 'foreign');
    mkdirSync(dataDir);
    const file = join(dataDir, 'convoflow.db');
    const foreign = Buffer.from('This is a text file that someone named convoflow.db. '.repeat(200));
    writeFileSync(file, foreign);
    const { code, stderr } = await runServer({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `convoflow: failed to start: The SQLite database ${file} is not an SQLite database, or is damaged (file is not a database): restore it from a backup, or set DATA_DIR to another directory`,
    );
    expect(readFileSync(file).equals(foreign)).toBe(true);
  });

  it('should exit 1 naming a database it cannot write beside (its WAL cannot be created), without a stack trace', async () => {
    // The WAL's name taken by a directory: SQLite cannot open the WAL, as on a read-only file
    // system (which a test cannot mount, and which root's writes would ignore as permissions).
    const dataDir = join(dir, 'no-wal');
    mkdirSync(dataDir);
    const file = join(dataDir, 'convoflow.db');
    const seeded = new Database(file);
    seeded.pragma('journal_mode = WAL');
    seeded.close();
    mkdirSync(`${file}-wal`);
    const { code, stderr } = await runServer({ DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `convoflow: failed to start: The SQLite database ${file} cannot be opened for writing (unable to open database file) (DATA_DIR must name a directory this process can write)`,
    );
  });

  it('should exit 1 saying the port is taken, in one line', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const { code, stderr } = await runServer({ DATA_DIR: join(dir, 'port'), HOST: '127.0.0.1', PORT: String(port) });
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(`convoflow: failed to start: 127.0.0.1:${port} is already in use: stop what listens there, or set PORT to another port`);
    } finally {
      taken.close();
    }
  });
});
