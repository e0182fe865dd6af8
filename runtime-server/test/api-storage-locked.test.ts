import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

let dir: string;
let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'convoflow-locked-'));
  env = await startApiEnv({ file: join(dir, 'convoflow.db') });
});
afterAll(async () => {
  await env.dispose();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  h = await env.harness();
});

/**
 * Another process (an operator's `sqlite3` with a transaction left open, say) holds the file's
 * write lock for `ms`. Resolves once it holds it, with a promise of when it let go.
 */
async function holdWriteLock(file: string, ms: number): Promise<{ released: Promise<number> }> {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(
    process.execPath,
    ['-e', `const db = new (require(${JSON.stringify(driver)}))(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE'); console.log('locked'); setTimeout(() => { db.exec('ROLLBACK'); console.log('released'); }, ${ms});`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  let releasedAt = 0;
  const released = new Promise<number>((resolve) => child.once('exit', () => resolve(releasedAt)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('released') && releasedAt === 0) releasedAt = Date.now();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the locking process exited with ${code}: ${out}`)));
  });
  return { released };
}

describe('a database another process keeps locked', () => {
  it('should keep answering, refuse writes with 503 while it lasts, and take them once it ends', async () => {
    await h.publish(chainFlow('echo', { id: 'any', type: 'message.received', params: {} }, [['reply', 'send_text', { text: 'echo' }]]));
    await h.settle();
    const lock = await holdWriteLock(env.store.file, 3_000);

    // Each answered before the lock ends: the event loop is not held waiting for it.
    const read = await request(h.app).get('/api/flows').set(h.auth());
    const readAt = Date.now();
    const write = await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'dana', text: 'hi', messageId: 'm-1' });
    const writeAt = Date.now();
    const releasedAt = await lock.released;
    expect(read.status).toBe(200);
    expect(write.status).toBe(503);
    expect(write.headers['retry-after']).toBe('5');
    expect(readAt).toBeLessThan(releasedAt);
    expect(writeAt).toBeLessThan(releasedAt);

    // Delivered again once the lock is gone: taken and answered.
    await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: 'dana', text: 'hi', messageId: 'm-1' }).expect(202);
    await h.settle();
    const transcript = await request(h.app).get('/api/simulator/messages?contact=dana').set(h.auth()).expect(200);
    expect(transcript.body.items.map((m: { message: { text: string } }) => m.message.text)).toEqual(['echo']);
    env.takeProblems(); // the runtime's loops met the lock too, and said so
  });
});
