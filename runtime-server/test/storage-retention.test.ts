import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { journalInput, runRecord, sendEffect, sentMessage, stepCommit, stepLog } from './storage-contract.js';

const fileSize = (file: string): number =>
  statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0);

describe('sqlite retention', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-retention-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep the file size bounded under steady insert + prune + vacuum cycles', async () => {
    const file = join(dir, 'steady.db');
    const store = createSqliteStore({ file, synchronous: 'NORMAL' });
    await store.migrate();
    await store.leases.acquire('L', 'p', 0, Number.MAX_SAFE_INTEGER);
    const policy = { stepLogMs: 0, journalMs: 0, outboxMs: 0, endedRunsMs: 0, messagesMs: 0 };
    const padding = 'x'.repeat(2000);

    let clock = 1;
    const cycle = async (c: number): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const id = `run-${c}-${i}`;
        const at = clock++;
        await store.journal.append({ ...journalInput(`j-${c}-${i}`, `k${i}`, at), payload: { padding } });
        await store.commitStep(
          stepCommit({
            leaseKey: 'L',
            leaseOwner: 'p',
            run: runRecord({ id, status: 'done', snapshot: { padding }, createdAt: at, updatedAt: at, endedAt: at }),
            stepLogs: [{ ...stepLog(0, 'done'), runId: id, at }],
            effects: [sendEffect(1)],
            journalEntryId: `j-${c}-${i}`,
            // The conversation grows with every run too: the message in and the reply out.
            messages: [
              sentMessage({ direction: 'inbound', runId: id, idempotencyKey: `in-${id}`, message: { kind: 'text', text: padding }, at }),
              sentMessage({ runId: id, idempotencyKey: `${id}:1`, message: { kind: 'text', text: padding }, at }),
            ],
          }),
        );
        await store.outbox.complete(id, 1, { padding }, at);
      }
      const report = await store.prune(policy, clock + 1);
      expect(report).toEqual({ runs: 200, stepLog: 200, journal: 200, outbox: 200, messages: 400 });
      await store.vacuum();
    };

    for (let c = 0; c < 3; c++) await cycle(c);
    const settled = fileSize(file);
    for (let c = 3; c < 15; c++) await cycle(c);
    const after = fileSize(file);

    // Each cycle writes ~2.4 MB; without pruning 12 more cycles would add ~29 MB.
    expect(after).toBeLessThanOrEqual(settled * 1.25);
    expect(after).toBeLessThan(2 * 1024 * 1024);
    expect(await store.runs.countByStatus()).toEqual({ running: 0, waiting: 0, done: 0, failed: 0, cancelled: 0 });
    await store.close();
  });

  it('should return freed pages to the file system on vacuum', async () => {
    const file = join(dir, 'shrink.db');
    const store = createSqliteStore({ file });
    await store.migrate();
    for (let i = 0; i < 300; i++) {
      await store.journal.append({ ...journalInput(`j${i}`, 'k', i), payload: { padding: 'y'.repeat(4000) } });
      await store.journal.markProcessed(`j${i}`, i);
    }
    await store.vacuum();
    const full = fileSize(file);
    expect((await store.prune({ stepLogMs: 0, journalMs: 0, outboxMs: 0, endedRunsMs: 0 }, 1000)).journal).toBe(300);
    const report = await store.vacuum();
    expect(report.freedPages).toBeGreaterThan(100);
    expect(fileSize(file)).toBeLessThan(full / 4);
    expect(report.sizeBytes).toBe(statSync(file).size);
    await store.close();
  });
});
