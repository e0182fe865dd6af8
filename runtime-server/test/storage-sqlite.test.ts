import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConvoflowError, type JsonObject } from '@convoflow/engine';
import { createStore } from '../src/storage/create-store.js';
import { STORAGE_ERROR_HELP } from '../src/storage/errors.js';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { prepareStatements, runPageQuery } from '../src/storage/sqlite/statements.js';
import { describeStorageContract, journalInput, runRecord, sendEffect, sentMessage, stepCommit, stepLog } from './storage-contract.js';

const dirs: string[] = [];
const tempFile = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'convoflow-sqlite-'));
  dirs.push(dir);
  return join(dir, 'nested', 'convoflow.db');
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describeStorageContract('sqlite (temp file)', async () => {
  const store = createSqliteStore({ file: tempFile() });
  await store.migrate();
  return store;
});

describe('sqlite store', () => {
  it('should hand out every key\'s head when a few keys with deep backlogs come first', async () => {
    const store = createSqliteStore({ file: tempFile(), synchronous: 'NORMAL' });
    await store.migrate();
    // 600 entries of one contact, then one each of two others: more than the arrival-order scan reads.
    await Promise.all(Array.from({ length: 600 }, (_, i) => store.journal.append(journalInput(`hot-${i}`, 'hot', i))));
    await store.journal.append(journalInput('b-0', 'b', 1_000));
    await store.journal.append(journalInput('c-0', 'c', 1_001));
    expect((await store.journal.nextPending(64, 5_000)).map((e) => e.id)).toEqual(['hot-0', 'b-0', 'c-0']);
    expect((await store.journal.nextPending(2, 5_000)).map((e) => e.id)).toEqual(['hot-0', 'b-0']);
    // Found in arrival order through an index, with no grouping of the whole backlog, and no sort.
    const { pendingKeysOfWorkspace, pendingWorkspacesAfter } = prepareStatements(store.db);
    const plan = (sql: string, ...params: unknown[]) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    expect(plan(pendingKeysOfWorkspace.source, 'ws', 0, 8)).toMatch(/^SEARCH j USING COVERING INDEX journal_pending_by_workspace \(workspace_id=\?\)/);
    expect(plan(pendingKeysOfWorkspace.source, 'ws', 0, 8)).not.toMatch(/TEMP B-TREE/);
    expect(plan(pendingWorkspacesAfter.source, '', 8).match(/SEARCH journal USING COVERING INDEX journal_pending_by_workspace \(workspace_id>\?\)/g)).toHaveLength(2);
    await store.close();
  });

  it("should read the outbox's due effects per workspace through an index, however deep a backlog", async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    const { workspacesWithDueEffects, dueEffectsOfWorkspace } = prepareStatements(store.db);
    const plan = (sql: string, ...params: unknown[]) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    const workspaces = plan(workspacesWithDueEffects.source, { type: 'sendMessage', after: '', now: 0, full: '[]', limit: 8 });
    expect(workspaces.match(/SEARCH outbox USING INDEX outbox_due_by_workspace \(<expr>=\? AND workspace_id>\?\)/g)).toHaveLength(2);
    expect(workspaces).toMatch(/SEARCH outbox USING INDEX outbox_due_by_workspace \(<expr>=\? AND workspace_id=\?\)/);
    const due = plan(dueEffectsOfWorkspace.source, 'sendMessage', 'ws', 0, 0, 8);
    expect(due).toMatch(/^SEARCH outbox USING INDEX outbox_due_by_workspace \(<expr>=\? AND workspace_id=\? AND available_at<\?\)$/);
    await store.close();
  });

  it('should acknowledge journal appends only after a WAL sync, one sync for a burst of appends', async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    const appends = Array.from({ length: 50 }, (_, i) => store.journal.append(journalInput(`burst-${i}`, `k${i}`, i)));
    const syncsWhenQueued = store.walSyncs();
    const results = await Promise.all(appends);
    expect(syncsWhenQueued).toBe(0);
    expect(results.every((r) => r.inserted)).toBe(true);
    // One group commit, one sync (a second only if a sync was already running when they came).
    expect(store.walSyncs()).toBeGreaterThanOrEqual(1);
    expect(store.walSyncs()).toBeLessThanOrEqual(2);
    await store.close();
  });

  it('should sync before showing a recorded message, once per message, and never for an empty read or at NORMAL', async () => {
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const store = createSqliteStore({ file: tempFile(), synchronous });
      await store.migrate();
      await store.leases.acquire('k', 'me', 1, 100_000);
      const reply = sentMessage();
      await store.commitStep(stepCommit({ leaseKey: 'k', leaseOwner: 'me', effects: [], messages: [reply] }));
      const before = store.walSyncs();
      expect(await store.messages.list('ws', 'c2')).toEqual([]);
      expect(store.walSyncs() - before).toBe(0);
      expect(await store.messages.list('ws', 'c1', { direction: 'outbound' })).toMatchObject([reply]);
      expect(store.walSyncs() - before).toBe(synchronous === 'FULL' ? 1 : 0);
      // Read again: that sync covered it, so no other is needed.
      expect(await store.messages.list('ws', 'c1')).toHaveLength(1);
      expect(store.walSyncs() - before).toBe(synchronous === 'FULL' ? 1 : 0);
      // A newer message is not covered yet.
      await store.commitStep(stepCommit({ leaseKey: 'k', leaseOwner: 'me', effects: [], isNew: false, run: runRecord({ stepCount: 2 }), stepLogs: [stepLog(1, 'done')], messages: [sentMessage({ idempotencyKey: 'run-1:2' })] }));
      expect(await store.messages.list('ws', 'c1')).toHaveLength(2);
      expect(store.walSyncs() - before).toBe(synchronous === 'FULL' ? 2 : 0);
      await store.close();
    }
  });

  it('should let a read wait for the sync already running when that sync covers the message', async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    await store.leases.acquire('k', 'me', 1, 100_000);
    const reply = sentMessage();
    await store.commitStep(stepCommit({ leaseKey: 'k', leaseOwner: 'me', effects: [], messages: [reply] }));
    const before = store.walSyncs();
    // An acknowledging append starts a sync (in its group commit, at the next turn) after the reply was written.
    const appended = store.journal.append(journalInput('j1', 'k2', 1));
    await new Promise((resolve) => setImmediate(resolve));
    const read = store.messages.list('ws', 'c1', { direction: 'outbound' });
    expect((await appended).inserted).toBe(true);
    expect(await read).toMatchObject([reply]);
    expect(store.walSyncs() - before).toBe(1); // that one sync served both
    await store.close();
  });

  it('should sync before handing out claimed effects, and never at NORMAL', async () => {
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const store = createSqliteStore({ file: tempFile(), synchronous });
      await store.migrate();
      await store.leases.acquire('k', 'me', 1, 100_000);
      await store.commitStep(stepCommit({ leaseKey: 'k', leaseOwner: 'me', effects: [sendEffect(1)] }));
      const before = store.walSyncs();
      const claimed = await store.outbox.claim('me', 10, 1e12, 2e12);
      expect(claimed).toHaveLength(1);
      expect(store.walSyncs() - before).toBe(synchronous === 'FULL' ? 1 : 0);
      expect(await store.outbox.claim('me', 10, 1e12 + 1, 2e12)).toEqual([]);
      expect(store.walSyncs() - before).toBe(synchronous === 'FULL' ? 1 : 0);
      await store.close();
    }
  });

  it('should open a file in WAL mode with foreign keys and incremental auto-vacuum, commits unsynced by SQLite itself', async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('auto_vacuum', { simple: true })).toBe(2);
    // NORMAL throughout: acknowledging commits are synced by WalSync, off the event loop.
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect((await store.journal.append(journalInput('j1', 'k', 1))).inserted).toBe(true);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(store.walSyncs()).toBe(1);
    expect(store.db.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await store.close();
  });

  it("should find a contact's active runs without reading its ended ones", async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    // A chatty contact piles up ended runs; the lookup every message makes must not walk them.
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM runs WHERE workspace_id = ? AND contact_id = ? AND status IN ('running', 'waiting') ORDER BY created_at, id`)
      .all('ws', 'c') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail)).toEqual(['SEARCH runs USING INDEX runs_active_by_contact (workspace_id=? AND contact_id=?)']);
    await store.close();
  });

  // This file has no statistics (nothing runs ANALYZE): without an index that constrains every
  // filter, the planner's guess decided whether a page read 50 runs or every run of a flow.
  it('should read a page of runs through an index that constrains every filter but the contact', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    const filters = { flowId: 'f', status: 'failed', contactId: 'c' } as const;
    const names = Object.keys(filters) as Array<keyof typeof filters>;
    for (let mask = 0; mask < 2 ** names.length; mask += 1) {
      const filter = Object.fromEntries(names.filter((_, i) => mask & (2 ** i)).map((name) => [name, filters[name]]));
      for (const after of [undefined, { createdAt: 5, id: 'r5' }]) {
        const { sql, params } = runPageQuery('ws', filter, after, 51);
        const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((p) => p.detail);
        const column = { flowId: 'flow_id', status: 'status', contactId: 'contact_id' };
        const constrained = 'contactId' in filter ? ['contact_id'] : Object.keys(filter).map((name) => column[name as keyof typeof column]);
        expect({ filter, plan: plan.join('; ') }).toEqual({
          filter,
          plan: expect.stringMatching(new RegExp(`^SEARCH runs USING INDEX \\w+ \\(workspace_id=\\?${constrained.map((c) => ` AND ${c}=\\?`).join('')}`)),
        });
        expect(plan.join('; ')).not.toMatch(/TEMP B-TREE/);
      }
    }
    await store.close();
  });

  // A draft or a definition can be hundreds of kilobytes: what comes after it in a row is on its
  // overflow pages, so a list must not read the rows at all.
  it('should list flows and their versions from indexes, without reading drafts or definitions', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    const statements = prepareStatements(store.db);
    const plan = (sql: string, ...params: string[]) =>
      (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((p) => p.detail);
    expect(plan(statements.listVersions.source, 'ws', 'f')).toEqual([
      'SEARCH flow_versions USING COVERING INDEX flow_versions_listed (workspace_id=? AND flow_id=?)',
    ]);
    expect(plan(statements.listFlows.source, 'ws')).toEqual(['SEARCH flows USING COVERING INDEX flows_listed (workspace_id=?)']);
    expect(plan(statements.listActiveIdsIn.source, 'ws')).toEqual(['SEARCH flows USING COVERING INDEX flows_active_in_order (workspace_id=?)']);
    await store.close();
  });

  it('should serve more workspaces than a tick takes in rotation', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    for (const ws of ['w1', 'w2', 'w3', 'w4', 'w5']) {
      for (const n of [1, 2]) await store.journal.append({ ...journalInput(`${ws}-${n}`, `${ws}-k${n}`, n), workspaceId: ws });
    }
    const ticks: string[][] = [];
    for (let tick = 0; tick < 3; tick++) ticks.push((await store.journal.nextPending(2, 100)).map((e) => e.id).sort());
    expect(ticks).toEqual([['w1-1', 'w2-1'], ['w3-1', 'w4-1'], ['w1-1', 'w5-1']]);
    await store.close();
  });

  it('should run on :memory: with synchronous NORMAL', async () => {
    const store = createSqliteStore({ file: ':memory:', synchronous: 'NORMAL' });
    await store.migrate();
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect((await store.journal.append(journalInput('j1', 'k', 1))).inserted).toBe(true);
    await store.close();
  });

  it('should say NOT_MIGRATED, as a ConvoflowError with help, when used before migrate()', async () => {
    const store = createSqliteStore({ file: ':memory:' });
    const failure = store.workspaces.list();
    await expect(failure).rejects.toMatchObject({ code: 'NOT_MIGRATED', name: 'StorageError', help: STORAGE_ERROR_HELP.NOT_MIGRATED });
    await expect(failure).rejects.toBeInstanceOf(ConvoflowError);
    await store.close();
  });

  it('should convert a file created without incremental auto-vacuum', async () => {
    const file = tempFile();
    const first = createSqliteStore({ file });
    first.db.pragma('auto_vacuum = NONE');
    first.db.exec('VACUUM');
    expect(first.db.pragma('auto_vacuum', { simple: true })).toBe(0);
    await first.migrate();
    expect(first.db.pragma('auto_vacuum', { simple: true })).toBe(2);
    await first.close();
  });

  it('should group commits in one transaction and roll back only the one that failed', async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    await store.leases.acquire('ws/c1', 'p1', 0, 1e12);
    await store.leases.acquire('ws/c2', 'someone-else', 0, 1e12);
    const results = await store.commitSteps([
      stepCommit({ run: runRecord({ id: 'r1' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'r1' }] }),
      stepCommit({ leaseKey: 'ws/c2', run: runRecord({ id: 'r2' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'r2' }] }),
      stepCommit({ run: runRecord({ id: 'r3' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'r3' }] }),
    ]);
    expect(results.map((r) => (r as { code?: string } | undefined)?.code)).toEqual([undefined, 'LEASE_LOST', undefined]);
    expect(await store.runs.get('ws', 'r1')).toBeDefined();
    expect(await store.runs.get('ws', 'r2')).toBeUndefined();
    expect(await store.runs.stepLog('r2')).toEqual([]);
    expect(await store.outbox.get('r2', 1)).toBeUndefined();
    expect((await store.outbox.get('r3', 1))?.status).toBe('pending');
    await store.close();
  });

  it('should land each commit of a group whole or not at all when the disk fills in the middle', async () => {
    const store = createSqliteStore({ file: tempFile() });
    await store.migrate();
    await store.leases.acquire('ws/c1', 'p1', 0, 1e12);
    store.db.pragma('incremental_vacuum');
    // The file may not grow: small rows still fit in their tables' pages, a big snapshot does not.
    store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
    const commit = (id: string, snapshot: JsonObject) =>
      stepCommit({ run: runRecord({ id, snapshot }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: id }] });
    const ids = ['r1', 'big', 'r3'];
    let results: (Error | undefined)[];
    try {
      results = await store.commitSteps(ids.map((id) => commit(id, id === 'big' ? { filler: 'x'.repeat(50_000) } : {})));
    } catch (err) {
      results = ids.map(() => err as Error);
    }
    // Whatever SQLite rolled back (the statement, or the whole transaction), a commit reported
    // written is all there, and one reported failed left nothing.
    for (const [i, id] of ids.entries()) {
      const written = results[i] === undefined;
      expect({ id, run: (await store.runs.get('ws', id)) !== undefined }).toEqual({ id, run: written });
      expect({ id, steps: (await store.runs.stepLog(id)).length }).toEqual({ id, steps: written ? 1 : 0 });
      expect({ id, outbox: (await store.outbox.get(id, 1)) !== undefined }).toEqual({ id, outbox: written });
    }
    expect(results[1]).toBeDefined();
    for (const error of results) if (error) expect(error).toMatchObject({ name: 'StorageError', code: 'FULL' });
    await store.close();
  });

  describe('two stores on one file', () => {
    let file: string;
    let a: SqliteStore;
    let b: SqliteStore;
    beforeEach(async () => {
      file = tempFile();
      a = createSqliteStore({ file });
      b = createSqliteStore({ file });
      await a.migrate();
      await b.migrate();
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('should let only one of them hold a lease until it expires', async () => {
      expect(await a.leases.acquire('ws/c1', 'proc-a', 100, 200)).toBe(true);
      expect(await b.leases.acquire('ws/c1', 'proc-b', 150, 250)).toBe(false);
      expect(await b.leases.acquire('ws/c1', 'proc-b', 201, 300)).toBe(true);
      expect(await a.leases.acquire('ws/c1', 'proc-a', 250, 350)).toBe(false);
    });

    it('should reject the commit of the store that lost the lease to the other', async () => {
      await a.leases.acquire('ws/c1', 'proc-a', 100, 200);
      await a.commitStep(stepCommit({ leaseOwner: 'proc-a' }));
      await b.leases.acquire('ws/c1', 'proc-b', 300, 400);
      await expect(
        a.commitStep(
          stepCommit({ leaseOwner: 'proc-a', isNew: false, run: runRecord({ stepCount: 2 }), stepLogs: [stepLog(1, 'waiting')], effects: [sendEffect(2)] }),
        ),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
      expect((await b.runs.get('ws', 'run-1'))?.stepCount).toBe(1);
      expect(await b.outbox.get('run-1', 2)).toBeUndefined();
    });

    it('should never give one outbox entry to both', async () => {
      await a.leases.acquire('L', 'p', 0, 1e12);
      const effects = Array.from({ length: 40 }, (_, i) => sendEffect(i + 1));
      await a.commitStep(stepCommit({ leaseKey: 'L', leaseOwner: 'p', effects }));
      const claimed: number[] = [];
      const rounds = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).outbox.claim(`exec-${i}`, 5, 100, 200)),
      );
      for (const round of rounds) claimed.push(...round.map((e) => e.seq));
      expect(claimed).toHaveLength(40);
      expect(new Set(claimed).size).toBe(40);
      expect(await b.outbox.claim('late', 100, 200, 300)).toEqual([]);
      expect(await a.outbox.claim('late', 100, 201, 300)).toHaveLength(40);
    });

    it('should see the journal the other wrote, deduplicated', async () => {
      expect((await a.journal.append(journalInput('j1', 'k', 1, 'wamid.1'))).inserted).toBe(true);
      expect((await b.journal.append(journalInput('j2', 'k', 2, 'wamid.1'))).inserted).toBe(false);
      expect((await b.journal.nextPending(10, 5)).map((e) => e.id)).toEqual(['j1']);
    });
  });
});

describe('createStore', () => {
  it('should open SQLite at the given file even when MONGODB_URI is set', async () => {
    const file = tempFile();
    const store = await createStore({ sqliteFile: file, synchronous: 'NORMAL' }, { MONGODB_URI: 'mongodb://127.0.0.1:1/x' });
    expect(store.kind).toBe('sqlite');
    if (store.kind === 'sqlite') expect(store.file).toBe(file);
    await store.close();
  });

  it('should pick MongoDB when MONGODB_URI is set and no file is given', async () => {
    const store = await createStore({}, { MONGODB_URI: 'mongodb://127.0.0.1:1/convoflow' });
    expect(store.kind).toBe('mongo');
    await store.close();
  });
});
