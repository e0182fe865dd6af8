import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { bootstrap, type ServerParts } from '../../src/bootstrap.js';
import { readConfig } from '../../src/config.js';

/** A fully wired runtime-server in this process on a temp SQLite file, with the demo seeded. */
export interface TestServer extends ServerParts {
  adminKey: string;
  workspaceId: string;
  dir: string;
  /** Closes everything and removes the temp directory. */
  dispose(): Promise<void>;
}

export const TEST_ADMIN_KEY = `cf_${'t'.repeat(43)}`;

/** Starts a server process's parts in process (no listening: use supertest on `app`). */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'convoflow-rt-'));
  const config = readConfig({
    DATA_DIR: dir,
    CONVOFLOW_ADMIN_KEY: TEST_ADMIN_KEY,
    POLL_MS: '20',
    SCHEDULER_POLL_MS: '50',
    SQLITE_SYNCHRONOUS: 'NORMAL',
    // agenda keeps a timer of half the lock lifetime after each job; a short one lets jest exit.
    SCHEDULER_LOCK_LIFETIME_MS: '1000',
    ...env,
  });
  const parts = await bootstrap(config, { logger: pino({ level: 'silent' }) });
  return {
    ...parts,
    adminKey: TEST_ADMIN_KEY,
    workspaceId: parts.demo?.workspaceId ?? 'ws_demo',
    dir,
    async dispose() {
      await parts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
