import type { Effect, FlowDefinition, JsonObject } from '@convoflow/engine';
import { StorageError } from '../src/storage/errors.js';
import type {
  ContactAnnouncement,
  ConversationMessage,
  JournalEntry,
  OutboxEntry,
  RunRecord,
  StepCommit,
  StoragePort,
  StoredRunStatus,
} from '../src/storage/storage-port.js';

/**
 * The storage contract: every adapter of the storage port must pass this suite. Each test gets a
 * fresh, migrated store from `makeStore`; `dispose` (default: `close()`) cleans it up.
 *
 * @example
 * ```ts
 * describeStorageContract('sqlite', async () => {
 *   const store = createSqliteStore({ file: tempFile() });
 *   await store.migrate();
 *   return store;
 * });
 * ```
 */
export function describeStorageContract(
  name: string,
  makeStore: () => Promise<StoragePort>,
  dispose: (store: StoragePort) => Promise<void> = (store) => store.close(),
  describeFn: (name: string, fn: () => void) => void = describe,
): void {
  describeFn(`storage contract: ${name}`, () => {
    let store: StoragePort;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await dispose(store);
    });

    describe('migrate', () => {
      it('should be safe to run again on a migrated store', async () => {
        await store.migrate();
        await store.migrate();
        const ws = await store.workspaces.create({ name: 'Acme' });
        expect(await store.workspaces.get(ws.id)).toEqual(ws);
      });
    });

    describe('workspaces', () => {
      it('should create with default settings and merge updated settings', async () => {
        const ws = await store.workspaces.create({ id: 'ws-1', name: 'Acme', settings: { timezone: 'Asia/Hong_Kong' } });
        expect(ws).toMatchObject({
          id: 'ws-1',
          name: 'Acme',
          settings: { interruptKeywords: [], allowPrivateNetwork: false, timezone: 'Asia/Hong_Kong' },
        });
        const updated = await store.workspaces.updateSettings('ws-1', { interruptKeywords: ['STOP'] });
        expect(updated.settings).toEqual({ interruptKeywords: ['STOP'], allowPrivateNetwork: false, timezone: 'Asia/Hong_Kong' });
        expect(await store.workspaces.get('ws-1')).toEqual(updated);
        expect((await store.workspaces.list()).map((w) => w.id)).toEqual(['ws-1']);
        expect(await store.workspaces.get('nope')).toBeUndefined();
      });

      it('should refuse to update the settings of a missing workspace', async () => {
        await expect(store.workspaces.updateSettings('nope', { timezone: 'UTC' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });

      it('should refuse a second workspace with the same id', async () => {
        await store.workspaces.create({ id: 'ws-1', name: 'Acme' });
        await expect(store.workspaces.create({ id: 'ws-1', name: 'Other' })).rejects.toMatchObject({ code: 'CONFLICT' });
      });
    });

    describe('apiKeys', () => {
      const key = { id: 'k1', workspaceId: 'ws-a', name: 'CI', role: 'admin' as const, keyHash: 'h1', prefix: 'cf_ab', createdAt: 1 };

      it('should find a key by hash, list per workspace and revoke once', async () => {
        await store.apiKeys.insert(key);
        await store.apiKeys.insert({ ...key, id: 'k2', workspaceId: 'ws-b', keyHash: 'h2' });
        expect(await store.apiKeys.findByHash('h1')).toEqual(key);
        expect((await store.apiKeys.list('ws-a')).map((k) => k.id)).toEqual(['k1']);
        await store.apiKeys.insert({ ...key, id: 'k3', keyHash: 'h3' });
        expect(await store.apiKeys.revoke('ws-b', 'k1', 5)).toBe('not_found');
        expect(await store.apiKeys.revoke('ws-a', 'k1', 5)).toBe('revoked');
        expect(await store.apiKeys.revoke('ws-a', 'k1', 6)).toBe('not_found');
        expect(await store.apiKeys.findByHash('h1')).toEqual({ ...key, revokedAt: 5 });
      });

      it('should never revoke a workspace\'s last active admin key, even two at once', async () => {
        await store.apiKeys.insert(key);
        await store.apiKeys.insert({ ...key, id: 'k2', keyHash: 'h2' });
        await store.apiKeys.insert({ ...key, id: 's1', keyHash: 'h3', role: 'staff' });
        await store.apiKeys.insert({ ...key, id: 'other', workspaceId: 'ws-b', keyHash: 'h4' });
        expect(await store.apiKeys.revoke('ws-a', 's1', 5)).toBe('revoked');
        const both = await Promise.all([store.apiKeys.revoke('ws-a', 'k1', 6), store.apiKeys.revoke('ws-a', 'k2', 6)]);
        expect(both.sort()).toEqual(['last_admin', 'revoked']);
        expect((await store.apiKeys.list('ws-a')).filter((k) => k.role === 'admin' && k.revokedAt === undefined)).toHaveLength(1);
        expect(await store.apiKeys.revoke('ws-b', 'other', 7)).toBe('last_admin');
        expect(await store.apiKeys.findByHash('h4')).toEqual({ ...key, id: 'other', workspaceId: 'ws-b', keyHash: 'h4' });
      });

      it('should refuse two keys with one hash', async () => {
        await store.apiKeys.insert(key);
        await expect(store.apiKeys.insert({ ...key, id: 'k3' })).rejects.toMatchObject({ code: 'CONFLICT' });
      });
    });

    describe('flows', () => {
      it('should create a flow at revision 1 with no published version', async () => {
        const flow = await store.flows.create({ workspaceId: 'ws', draft: flowDef('f1', 'Welcome'), at: 10 });
        expect(flow).toMatchObject({ id: 'f1', workspaceId: 'ws', name: 'Welcome', revision: 1, latestVersion: 0, createdAt: 10 });
        expect(flow.activeVersion).toBeUndefined();
        expect(await store.flows.get('ws', 'f1')).toEqual(flow);
        const { draft: _draft, ...summary } = flow;
        expect(await store.flows.list('ws')).toEqual([summary]);
        await store.flows.publish('ws', 'f1', 'ann', 20);
        expect(await store.flows.list('ws')).toEqual([{ ...summary, activeVersion: 1, latestVersion: 1, updatedAt: 20 }]);
      });

      it('should update the draft only from the current revision', async () => {
        await store.flows.create({ workspaceId: 'ws', draft: flowDef('f1', 'Welcome'), at: 10 });
        const updated = await store.flows.updateDraft('ws', 'f1', flowDef('f1', 'Welcome v2'), 1, 20);
        expect(updated).toMatchObject({ revision: 2, name: 'Welcome v2', updatedAt: 20 });
        expect(await store.flows.updateDraft('ws', 'f1', flowDef('f1', 'Lost update'), 1, 30)).toBeUndefined();
        expect((await store.flows.get('ws', 'f1'))?.draft.name).toBe('Welcome v2');
      });

      it('should publish immutable versions and roll back with activate', async () => {
        await store.flows.create({ workspaceId: 'ws', draft: flowDef('f1', 'One'), at: 10 });
        const v1 = await store.flows.publish('ws', 'f1', 'ann', 20);
        expect(v1).toMatchObject({ workspaceId: 'ws', flowId: 'f1', version: 1, publishedAt: 20, publishedBy: 'ann' });
        expect(v1.definition.name).toBe('One');

        await store.flows.updateDraft('ws', 'f1', flowDef('f1', 'Two'), 1, 30);
        const v2 = await store.flows.publish('ws', 'f1', 'bob', 40);
        expect(v2.version).toBe(2);
        expect(v2.definition.name).toBe('Two');
        expect(await store.flows.getVersion('ws', 'f1', 1)).toEqual(v1);
        expect(await store.flows.listVersions('ws', 'f1')).toEqual([
          { workspaceId: 'ws', flowId: 'f1', version: 1, publishedAt: 20, publishedBy: 'ann' },
          { workspaceId: 'ws', flowId: 'f1', version: 2, publishedAt: 40, publishedBy: 'bob' },
        ]);
        expect(await store.flows.get('ws', 'f1')).toMatchObject({ activeVersion: 2, latestVersion: 2 });
        expect((await store.flows.listActive('ws')).map((v) => v.definition.name)).toEqual(['Two']);

        const rolledBack = await store.flows.activate('ws', 'f1', 1, 50);
        expect(rolledBack).toMatchObject({ activeVersion: 1, latestVersion: 2 });
        expect(await store.flows.listActive('ws')).toEqual([v1]);
        expect(await store.flows.activate('ws', 'f1', 9, 60)).toBeUndefined();

        const v3 = await store.flows.publish('ws', 'f1', 'ann', 70);
        expect(v3.version).toBe(3);
        expect(await store.flows.getVersion('ws', 'f1', 2)).toEqual(v2);
      });

      it('should refuse to publish a missing flow', async () => {
        await expect(store.flows.publish('ws', 'nope', 'ann', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });

      it('should hide a deleted flow but keep its versions', async () => {
        await store.flows.create({ workspaceId: 'ws', draft: flowDef('f1', 'One'), at: 10 });
        const v1 = await store.flows.publish('ws', 'f1', 'ann', 20);
        expect(await store.flows.delete('ws', 'f1')).toBe(true);
        expect(await store.flows.delete('ws', 'f1')).toBe(false);
        expect(await store.flows.get('ws', 'f1')).toBeUndefined();
        expect(await store.flows.list('ws')).toEqual([]);
        expect(await store.flows.listActive('ws')).toEqual([]);
        expect(await store.flows.listActive()).toEqual([]);
        expect(await store.flows.getVersion('ws', 'f1', 1)).toEqual(v1);
        expect(await store.flows.updateDraft('ws', 'f1', flowDef('f1', 'x'), 1, 30)).toBeUndefined();
      });

      it('should name the active versions in the order listActive returns them, without their definitions', async () => {
        const ids = async (ws: string) => (await store.flows.listActive(ws)).map((v) => ({ flowId: v.flowId, version: v.version }));
        for (const [i, id] of ['f3', 'f1', 'f2', 'f4'].entries()) {
          await store.flows.create({ workspaceId: 'ws', draft: flowDef(id, id), at: 10 + i });
        }
        await store.flows.create({ workspaceId: 'ws-other', draft: flowDef('f9', 'f9'), at: 1 });
        await store.flows.publish('ws-other', 'f9', 'x', 2);
        expect(await store.flows.listActiveVersionIds('ws')).toEqual([]);
        for (const id of ['f1', 'f2', 'f3', 'f1', 'f4']) await store.flows.publish('ws', id, 'x', 20);
        await store.flows.activate('ws', 'f1', 1, 30);
        await store.flows.delete('ws', 'f4');
        expect(await store.flows.listActiveVersionIds('ws')).toEqual([
          { flowId: 'f3', version: 1 },
          { flowId: 'f1', version: 1 },
          { flowId: 'f2', version: 1 },
        ]);
        expect(await store.flows.listActiveVersionIds('ws')).toEqual(await ids('ws'));
        expect(await store.flows.listActiveVersionIds('ws-other')).toEqual([{ flowId: 'f9', version: 1 }]);
      });

      it('should list active versions across workspaces when no workspace is given', async () => {
        await store.flows.create({ workspaceId: 'ws-a', draft: flowDef('f1', 'A'), at: 10 });
        await store.flows.create({ workspaceId: 'ws-b', draft: flowDef('f1', 'B'), at: 10 });
        await store.flows.create({ workspaceId: 'ws-b', draft: flowDef('f2', 'Unpublished'), at: 10 });
        await store.flows.publish('ws-a', 'f1', 'x', 20);
        await store.flows.publish('ws-b', 'f1', 'x', 20);
        const all = await store.flows.listActive();
        expect(all.map((v) => `${v.workspaceId}/${v.definition.name}`).sort()).toEqual(['ws-a/A', 'ws-b/B']);
      });
    });

    describe('contacts', () => {
      const wa = { channel: 'whatsapp', externalId: '+85212345678' };
      /** An announcement that records what it was asked for; its entry's ordering key is the contact id. */
      const announcer = () => {
        const calls: Array<{ contactId: string; changedFields: string[] }> = [];
        const announce: ContactAnnouncement = (contact, changedFields) => {
          calls.push({ contactId: contact.id, changedFields });
          return { ...journalInput(`jrn-${contact.id}-${calls.length}`, contact.id, 5), kind: 'contact', payload: { contactId: contact.id, changedFields } };
        };
        return { calls, announce };
      };

      it('should write a contact\'s announcement with the contact it creates, and none for one it finds', async () => {
        const { calls, announce } = announcer();
        const { contact } = await store.contacts.upsertByIdentity('ws', wa, { name: 'Ann' }, 10, announce);
        expect(calls).toEqual([{ contactId: contact.id, changedFields: ['name'] }]);
        expect((await store.journal.pendingForKey(contact.id, 10)).map((e) => [e.kind, e.payload])).toEqual([['contact', { contactId: contact.id, changedFields: ['name'] }]]);
        await store.contacts.upsertByIdentity('ws', wa, { name: 'Ann' }, 20, announce);
        expect(calls).toHaveLength(1);

        const created = await store.contacts.create('ws', { plan: 'pro' }, [], 30, announce);
        expect((await store.journal.pendingForKey(created.id, 10)).map((e) => e.payload)).toEqual([{ contactId: created.id, changedFields: ['plan'] }]);
      });

      it('should write an update\'s announcement only when a field changed', async () => {
        const { calls, announce } = announcer();
        const contact = await store.contacts.create('ws', { plan: 'free', city: 'Lyon' }, [], 10);
        expect(await store.journal.pendingForKey(contact.id, 10)).toEqual([]);
        await store.contacts.update('ws', contact.id, { plan: 'free' }, 20, announce);
        expect(calls).toEqual([]);
        await store.contacts.update('ws', contact.id, { plan: 'pro', city: 'Lyon' }, 30, announce);
        expect(calls).toEqual([{ contactId: contact.id, changedFields: ['plan'] }]);
        expect(await store.journal.pendingForKey(contact.id, 10)).toHaveLength(1);
      });

      it('should write neither the contact nor the change when its announcement cannot be written', async () => {
        const refuse: ContactAnnouncement = () => {
          throw new Error('no announcement today');
        };
        await expect(store.contacts.upsertByIdentity('ws', wa, { name: 'Ann' }, 10, refuse)).rejects.toThrow('no announcement today');
        expect(await store.contacts.findByIdentity('ws', wa)).toBeUndefined();
        await expect(store.contacts.create('ws', { name: 'Bo' }, [], 10, refuse)).rejects.toThrow('no announcement today');
        expect((await store.contacts.list('ws')).items).toEqual([]);

        const contact = await store.contacts.create('ws', { plan: 'free' }, [], 10);
        await expect(store.contacts.update('ws', contact.id, { plan: 'pro' }, 20, refuse)).rejects.toThrow('no announcement today');
        expect((await store.contacts.get('ws', contact.id))?.fields).toEqual({ plan: 'free' });
      });

      it('should upsert by identity idempotently', async () => {
        const first = await store.contacts.upsertByIdentity('ws', wa, { name: 'Ann' }, 10);
        expect(first.created).toBe(true);
        expect(first.contact).toMatchObject({ workspaceId: 'ws', fields: { name: 'Ann' }, identities: [wa], createdAt: 10 });
        const again = await store.contacts.upsertByIdentity('ws', wa, { name: 'Someone else' }, 20);
        expect(again).toEqual({ contact: first.contact, created: false });
        expect(await store.contacts.findByIdentity('ws', wa)).toEqual(first.contact);
        expect(await store.contacts.findByIdentity('ws', { channel: 'telegram', externalId: wa.externalId })).toBeUndefined();
        const elsewhere = await store.contacts.upsertByIdentity('ws-other', wa, {}, 30);
        expect(elsewhere.created).toBe(true);
        expect(elsewhere.contact.id).not.toBe(first.contact.id);
      });

      it('should give each identity to one contact only', async () => {
        await store.contacts.create('ws', { name: 'Ann' }, [wa], 10);
        await expect(store.contacts.create('ws', { name: 'Bob' }, [wa], 20)).rejects.toMatchObject({ code: 'CONFLICT' });
        expect((await store.contacts.list('ws')).items).toHaveLength(1);
      });

      it('should report only the fields an update changed', async () => {
        const contact = await store.contacts.create('ws', { name: 'Ann', tags: ['vip'], plan: 'gold' }, [], 10);
        const result = await store.contacts.update('ws', contact.id, { name: 'Ann', tags: ['vip'], plan: 'silver', city: 'HK' }, 20);
        expect(result?.changed.sort()).toEqual(['city', 'plan']);
        expect(result?.contact).toMatchObject({ fields: { name: 'Ann', tags: ['vip'], plan: 'silver', city: 'HK' }, updatedAt: 20 });
        expect(await store.contacts.get('ws', contact.id)).toEqual(result?.contact);
        const unchanged = await store.contacts.update('ws', contact.id, { plan: 'silver' }, 30);
        expect(unchanged?.changed).toEqual([]);
        expect(unchanged?.contact.updatedAt).toBe(20);
        expect(await store.contacts.update('ws', 'nope', { a: 1 }, 40)).toBeUndefined();
        expect(await store.contacts.update('ws-other', contact.id, { a: 1 }, 40)).toBeUndefined();
      });

      it('should paginate newest first without gaps or repeats', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await store.contacts.create('ws', { n: i }, [], 100 + Math.floor(i / 2))).id);
        await store.contacts.create('ws-other', {}, [], 500);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.contacts.list('ws', { limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((c) => c.id));
          cursor = page.next;
          pages++;
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen.sort()).toEqual([...ids].sort());
        const all = (await store.contacts.list('ws', { limit: 10 })).items;
        expect(all.map((c) => c.createdAt)).toEqual([103, 102, 102, 101, 101, 100, 100]);
      });

      it('should reject a cursor it did not make', async () => {
        await expect(store.contacts.list('ws', { cursor: 'garbage' })).rejects.toMatchObject({ code: 'BAD_CURSOR' });
      });
    });

    describe('commitStep', () => {
      it('should write the run, its step log, outbox, journal entry and contact changes together', async () => {
        const contact = await store.contacts.create('ws', { name: 'Ann' }, [], 1);
        const { entry } = await store.journal.append(journalInput('j1', 'key', 10));
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(
          stepCommit({
            run: runRecord({ contactId: contact.id }),
            journalEntryId: entry.id,
            contactChanges: { contactId: contact.id, fields: { plan: 'gold' } },
          }),
        );
        const run = await store.runs.get('ws', 'run-1');
        expect(run).toEqual(runRecord({ contactId: contact.id }));
        expect(await store.runs.stepLog('run-1')).toEqual([stepLog(0, 'waiting')]);
        expect(await store.outbox.get('run-1', 1)).toMatchObject({
          runId: 'run-1',
          workspaceId: 'ws',
          seq: 1,
          effect: sendEffect(1),
          status: 'pending',
          attempts: 0,
          availableAt: 100,
          createdAt: 100,
        });
        expect(await store.journal.pendingForKey('key', 10)).toEqual([]);
        expect((await store.contacts.get('ws', contact.id))?.fields).toEqual({ name: 'Ann', plan: 'gold' });
      });

      it('should append the commit\'s message once, and not at all when the commit fails', async () => {
        const inbound = {
          workspaceId: 'ws',
          contactId: 'c1',
          channel: 'simulator',
          direction: 'inbound' as const,
          message: { text: 'hello' },
          idempotencyKey: 'msg:simulator:1',
          at: 90,
        };
        await expect(store.commitStep(stepCommit({ messages: [inbound] }))).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect(await store.messages.list('ws', 'c1')).toEqual([]);
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({ messages: [inbound] }));
        const listed = await store.messages.list('ws', 'c1');
        expect(listed).toHaveLength(1);
        expect(listed[0]).toMatchObject(inbound);
        await store.commitStep(
          stepCommit({ run: runRecord({ stepCount: 2 }), isNew: false, stepLogs: [stepLog(1, 'waiting')], messages: [inbound] }),
        );
        expect(await store.messages.list('ws', 'c1')).toEqual(listed);
      });

      it('should update an existing run and keep effects already in the outbox', async () => {
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({}));
        await store.outbox.complete('run-1', 1, { ok: true }, 110);
        const next = runRecord({ status: 'done', stepCount: 2, updatedAt: 120, endedAt: 120 });
        await store.commitStep(
          stepCommit({
            run: next,
            isNew: false,
            stepLogs: [{ ...stepLog(1, 'done'), at: 120 }],
            effects: [sendEffect(1), sendEffect(2)],
          }),
        );
        expect(await store.runs.get('ws', 'run-1')).toEqual(next);
        expect((await store.runs.stepLog('run-1')).map((s) => s.stepNo)).toEqual([0, 1]);
        expect((await store.outbox.get('run-1', 1))?.status).toBe('done');
        expect((await store.outbox.get('run-1', 2))?.status).toBe('pending');
      });

      it('should read the step log a page at a time, in step order', async () => {
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({ stepLogs: [0, 1, 2].map((n) => ({ ...stepLog(n, 'running'), at: 100 + n })) }));
        await store.commitStep(
          stepCommit({ run: runRecord({ stepCount: 5 }), isNew: false, stepLogs: [3, 4].map((n) => ({ ...stepLog(n, 'waiting'), at: 100 + n })) }),
        );
        const page = async (options: { afterStepNo?: number; limit?: number }) => (await store.runs.stepLog('run-1', options)).map((s) => s.stepNo);
        expect(await page({ limit: 2 })).toEqual([0, 1]);
        expect(await page({ afterStepNo: 1, limit: 2 })).toEqual([2, 3]);
        expect(await page({ afterStepNo: 3, limit: 2 })).toEqual([4]);
        expect(await page({ afterStepNo: 4, limit: 2 })).toEqual([]);
        expect(await page({ afterStepNo: 2 })).toEqual([3, 4]);
        expect(await page({ limit: 0 })).toEqual([]);
        expect((await store.runs.stepLog('run-1')).map((s) => s.stepNo)).toEqual([0, 1, 2, 3, 4]);
        expect(await store.runs.stepLog('no-such-run', { limit: 5 })).toEqual([]);
      });

      it('should write nothing when the lease is held by another owner', async () => {
        const contact = await store.contacts.create('ws', { name: 'Ann' }, [], 1);
        await store.journal.append(journalInput('j1', 'key', 10));
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({ run: runRecord({ contactId: contact.id }) }));
        expect(await store.leases.acquire('ws/c1', 'p2', 300, 400)).toBe(true);

        const before = await snapshotOf(store, contact.id);
        const lost = store.commitStep(
          stepCommit({
            run: runRecord({ contactId: contact.id, status: 'done', stepCount: 2, updatedAt: 300, endedAt: 300 }),
            isNew: false,
            stepLogs: [stepLog(1, 'done')],
            effects: [sendEffect(2)],
            journalEntryId: 'j1',
            contactChanges: { contactId: contact.id, fields: { plan: 'gold' } },
          }),
        );
        await expect(lost).rejects.toBeInstanceOf(StorageError);
        await expect(lost).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect(await snapshotOf(store, contact.id)).toEqual(before);
      });

      it('should write nothing when the lease was never taken', async () => {
        await expect(store.commitStep(stepCommit({}))).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect(await store.runs.get('ws', 'run-1')).toBeUndefined();
        expect(await store.runs.stepLog('run-1')).toEqual([]);
        expect(await store.outbox.get('run-1', 1)).toBeUndefined();
      });

      it('should let an owner whose lease lapsed commit while nobody took it over', async () => {
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({ run: runRecord({ updatedAt: 900 }) }));
        expect((await store.runs.get('ws', 'run-1'))?.updatedAt).toBe(900);
      });

      it('should release the lease with the commit when asked, and only if the committer holds it', async () => {
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({ releaseLease: true }));
        expect((await store.runs.get('ws', 'run-1'))?.id).toBe('run-1');
        expect(await store.leases.acquire('ws/c1', 'p2', 100, 200)).toBe(true);
        // p1 no longer holds it: the commit is refused and p2 keeps the lease.
        await expect(
          store.commitStep(stepCommit({ releaseLease: true, isNew: false, run: runRecord({ stepCount: 2 }), stepLogs: [stepLog(1, 'done')] })),
        ).rejects.toMatchObject({ code: 'LEASE_LOST' });
        expect(await store.leases.acquire('ws/c1', 'p3', 100, 200)).toBe(false);
        expect(await store.runs.stepLog('run-1')).toHaveLength(1);
      });

      it('should write each of several commits on its own: one that lost its lease does not stop the others', async () => {
        await store.leases.acquireMany(['ws/c1', 'ws/c2'], 'p1', 100, 200);
        expect(await store.leases.acquire('ws/c3', 'p2', 100, 200)).toBe(true);
        const results = await store.commitSteps([
          stepCommit({ run: runRecord({ id: 'run-1' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-1' }] }),
          stepCommit({ leaseKey: 'ws/c3', run: runRecord({ id: 'run-3' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-3' }] }),
          stepCommit({ leaseKey: 'ws/c2', run: runRecord({ id: 'run-2' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-2' }] }),
        ]);
        expect(results.map((r) => (r === undefined ? 'ok' : (r as { code?: string }).code))).toEqual(['ok', 'LEASE_LOST', 'ok']);
        expect((await store.runs.get('ws', 'run-1'))?.id).toBe('run-1');
        expect(await store.runs.get('ws', 'run-3')).toBeUndefined();
        expect(await store.runs.stepLog('run-3')).toEqual([]);
        expect(await store.outbox.get('run-3', 1)).toBeUndefined();
        expect((await store.outbox.get('run-2', 1))?.status).toBe('pending');
      });

      it('should write the others of several commits when one fails after writing, and none of that one', async () => {
        await store.leases.acquireMany(['ws/c1', 'ws/c2'], 'p1', 100, 200);
        await store.commitStep(stepCommit({ run: runRecord({ id: 'run-1' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-1' }] }));
        const results = await store.commitSteps([
          stepCommit({ leaseKey: 'ws/c2', run: runRecord({ id: 'run-2' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-2' }] }),
          // Step 0 of run-1 again: its run update is written, then its step log insert fails.
          stepCommit({ run: runRecord({ id: 'run-1', stepCount: 7 }), isNew: false, stepLogs: [{ ...stepLog(0, 'done'), runId: 'run-1' }], effects: [sendEffect(5)] }),
          stepCommit({ leaseKey: 'ws/c2', run: runRecord({ id: 'run-4' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-4' }] }),
        ]);
        expect(results.map((r) => r === undefined)).toEqual([true, false, true]);
        expect((await store.runs.get('ws', 'run-2'))?.id).toBe('run-2');
        expect((await store.runs.get('ws', 'run-4'))?.id).toBe('run-4');
        expect((await store.runs.get('ws', 'run-1'))?.stepCount).not.toBe(7);
        expect(await store.outbox.get('run-1', 5)).toBeUndefined();
        expect((await store.runs.stepLog('run-1')).map((s) => s.status)).toEqual(['waiting']);
      });

      it('should roll back everything when a later write fails', async () => {
        await store.leases.acquire('ws/c1', 'p1', 100, 200);
        await store.commitStep(stepCommit({}));
        // Same step number again: the step log insert fails after the run update.
        await expect(
          store.commitStep(stepCommit({ run: runRecord({ stepCount: 7 }), isNew: false, effects: [sendEffect(5)] })),
        ).rejects.toThrow();
        expect((await store.runs.get('ws', 'run-1'))?.stepCount).toBe(1);
        expect(await store.outbox.get('run-1', 5)).toBeUndefined();
      });
    });

    describe('runs', () => {
      it('should list active runs of a contact oldest first and count by status', async () => {
        await store.leases.acquire('L', 'p', 0, 1e12);
        const statuses: StoredRunStatus[] = ['waiting', 'running', 'done', 'failed', 'cancelled', 'waiting'];
        for (const [i, status] of statuses.entries()) {
          const ended = status !== 'running' && status !== 'waiting';
          await store.commitStep(
            stepCommit({
              leaseKey: 'L',
              leaseOwner: 'p',
              run: runRecord({ id: `r${i}`, status, createdAt: 100 - i, ...(ended ? { endedAt: 200 } : {}) }),
              stepLogs: [{ ...stepLog(0, status), runId: `r${i}` }],
              effects: [],
            }),
          );
        }
        await store.commitStep(
          stepCommit({ leaseKey: 'L', leaseOwner: 'p', run: runRecord({ id: 'x', workspaceId: 'ws-other' }), stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'x', workspaceId: 'ws-other' }], effects: [] }),
        );
        expect((await store.runs.listActiveForContact('ws', 'c1')).map((r) => r.id)).toEqual(['r5', 'r1', 'r0']);
        expect(await store.runs.listActiveForContact('ws', 'c2')).toEqual([]);
        expect(await store.runs.countByStatus('ws')).toEqual({ running: 1, waiting: 2, done: 1, failed: 1, cancelled: 1 });
        expect(await store.runs.countByStatus()).toEqual({ running: 1, waiting: 3, done: 1, failed: 1, cancelled: 1 });
      });

      it('should filter and paginate runs newest first', async () => {
        await store.leases.acquire('L', 'p', 0, 1e12);
        for (let i = 0; i < 9; i++) {
          await store.commitStep(
            stepCommit({
              leaseKey: 'L',
              leaseOwner: 'p',
              run: runRecord({ id: `r${i}`, flowId: i % 3 === 0 ? 'fa' : 'fb', contactId: `c${i % 2}`, createdAt: 1000 + i }),
              stepLogs: [{ ...stepLog(0, 'waiting'), runId: `r${i}` }],
              effects: [],
            }),
          );
        }
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.runs.list('ws', { flowId: 'fb', limit: 2, ...(cursor ? { cursor } : {}) });
          ids.push(...page.items.map((r) => r.id));
          cursor = page.next;
        } while (cursor);
        expect(ids).toEqual(['r8', 'r7', 'r5', 'r4', 'r2', 'r1']);
        expect((await store.runs.list('ws', { contactId: 'c0', status: 'waiting' })).items.map((r) => r.id)).toEqual([
          'r8', 'r6', 'r4', 'r2', 'r0',
        ]);
        expect((await store.runs.list('ws', { status: 'done' })).items).toEqual([]);
        expect((await store.runs.list('ws-other', {})).items).toEqual([]);
        // A list leaves out the snapshot: all the rest is as `get` reads it.
        const { snapshot: _snapshot, ...summary } = (await store.runs.get('ws', 'r3'))!;
        expect((await store.runs.list('ws', { flowId: 'fa', limit: 2 })).items[1]).toEqual(summary);
      });
    });

    describe('journal', () => {
      it('should journal a dedupe key once', async () => {
        const first = await store.journal.append(journalInput('j1', 'key', 10, 'wamid.1'));
        expect(first.inserted).toBe(true);
        expect(first.entry).toMatchObject({ id: 'j1', status: 'pending', attempts: 0, dedupeKey: 'wamid.1', payload: { n: 'j1' } });
        const again = await store.journal.append(journalInput('j2', 'key', 20, 'wamid.1'));
        expect(again).toEqual({ inserted: false, entry: first.entry });
        expect(await store.journal.countPending()).toBe(1);
        const otherWorkspace = await store.journal.append({ ...journalInput('j3', 'key2', 30, 'wamid.1'), workspaceId: 'ws-other' });
        expect(otherWorkspace.inserted).toBe(true);
        expect(otherWorkspace.entry.seq).toBeGreaterThan(first.entry.seq);
      });

      it('should hand out the oldest pending entry per ordering key, skipping leased keys', async () => {
        await store.journal.append(journalInput('a1', 'A', 1));
        await store.journal.append(journalInput('b1', 'B', 2));
        await store.journal.append(journalInput('a2', 'A', 3));
        await store.journal.append(journalInput('c1', 'C', 4));
        await store.journal.append(journalInput('b2', 'B', 5));
        expect(ids(await store.journal.nextPending(10, 100))).toEqual(['a1', 'b1', 'c1']);
        expect(ids(await store.journal.nextPending(2, 100))).toEqual(['a1', 'b1']);

        await store.leases.acquire('B', 'worker-1', 100, 150);
        expect(ids(await store.journal.nextPending(10, 100))).toEqual(['a1', 'c1']);
        expect(ids(await store.journal.nextPending(10, 150))).toEqual(['a1', 'c1']);
        expect(ids(await store.journal.nextPending(10, 151))).toEqual(['a1', 'b1', 'c1']);

        await store.journal.markProcessed('a1', 100);
        await store.journal.markFailed('c1', 'boom', 100);
        expect(ids(await store.journal.nextPending(10, 200))).toEqual(['b1', 'a2']);
        expect(ids(await store.journal.pendingForKey('B', 10))).toEqual(['b1', 'b2']);
        expect(ids(await store.journal.pendingForKey('B', 1))).toEqual(['b1']);
        expect(await store.journal.countPending()).toBe(3);
      });

      // A bulk start of runs in one workspace must not hold up the replies of every other.
      it('should let workspaces take turns at the pending entries', async () => {
        for (let i = 0; i < 40; i++) await store.journal.append({ ...journalInput(`a${i}`, `A${i}`, i), workspaceId: 'ws-a' });
        await store.journal.append({ ...journalInput('b1', 'B1', 40), workspaceId: 'ws-b' });
        await store.journal.append({ ...journalInput('b2', 'B2', 41), workspaceId: 'ws-b' });
        await store.journal.append({ ...journalInput('c1', 'C1', 42), workspaceId: 'ws-c' });
        expect(ids(await store.journal.nextPending(4, 100)).sort()).toEqual(['a0', 'b1', 'c1', 'a1'].sort());
        const many = await store.journal.nextPending(20, 100);
        expect(many).toHaveLength(20);
        expect(ids(many).filter((id) => !id.startsWith('a')).sort()).toEqual(['b1', 'b2', 'c1']);
        expect(ids(many).filter((id) => id.startsWith('a'))).toEqual(Array.from({ length: 17 }, (_, i) => `a${i}`));
      });

      it('should hand out the oldest pending entries of several keys at once, up to the limit per key', async () => {
        for (const [id, key] of [['a1', 'A'], ['b1', 'B'], ['a2', 'A'], ['a3', 'A'], ['c1', 'C'], ['b2', 'B']] as const) {
          await store.journal.append(journalInput(id, key, 1));
        }
        await store.journal.markProcessed('a1', 10);
        const byKey = await store.journal.pendingForKeys(['A', 'B', 'D'], 2);
        expect([...byKey.keys()].sort()).toEqual(['A', 'B']);
        expect(ids(byKey.get('A') ?? [])).toEqual(['a2', 'a3']);
        expect(ids(byKey.get('B') ?? [])).toEqual(['b1', 'b2']);
        expect(ids((await store.journal.pendingForKeys(['A'], 1)).get('A') ?? [])).toEqual(['a2']);
        expect((await store.journal.pendingForKeys([], 5)).size).toBe(0);
      });

      it('should record a failure with its reason', async () => {
        await store.journal.append(journalInput('j1', 'K', 1));
        await store.journal.markFailed('j1', 'no such flow', 50);
        const [failed] = await store.journal.nextPending(10, 100);
        expect(failed).toBeUndefined();
        expect(await store.journal.countPending()).toBe(0);
        await expect(store.journal.markProcessed('nope', 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('outbox', () => {
      beforeEach(async () => {
        await store.leases.acquire('L', 'p', 0, 1e12);
        await store.commitStep(
          stepCommit({ leaseKey: 'L', leaseOwner: 'p', effects: [sendEffect(1), sendEffect(2), sendEffect(3)] }),
        );
      });

      it('should never give one entry to two owners while the lease is live', async () => {
        const a = await store.outbox.claim('exec-a', 2, 100, 160);
        const b = await store.outbox.claim('exec-b', 10, 110, 170);
        expect(a.map((e) => e.seq)).toEqual([1, 2]);
        expect(a.every((e) => e.leaseOwner === 'exec-a' && e.leaseUntil === 160 && e.attempts === 1)).toBe(true);
        expect(b.map((e) => e.seq)).toEqual([3]);
        expect(await store.outbox.claim('exec-c', 10, 160, 200)).toEqual([]);
        const reclaimed = await store.outbox.claim('exec-c', 10, 161, 200);
        expect(reclaimed.map((e) => e.seq)).toEqual([1, 2]);
        expect(reclaimed.map((e) => e.attempts)).toEqual([2, 2]);
      });

      it('should renew only the leases its owner holds on pending entries', async () => {
        await store.outbox.claim('exec-a', 2, 100, 160);
        await store.outbox.claim('exec-b', 10, 110, 170);
        await store.outbox.complete('run-1', 2, { ok: true }, 120);
        const renewed = await store.outbox.renew('exec-a', [1, 2, 3].map((seq) => ({ runId: 'run-1', seq })), 400);
        expect(renewed).toBe(1); // 2 is done, 3 is exec-b's
        expect(await store.outbox.renew('exec-a', [], 500)).toBe(0);
        expect(await store.outbox.claim('exec-c', 10, 300, 600)).toEqual([expect.objectContaining({ seq: 3 })]);
        expect((await store.outbox.get('run-1', 1))?.leaseUntil).toBe(400);
        expect((await store.outbox.claim('exec-c', 10, 401, 700)).map((e) => e.seq)).toEqual([1]);
      });

      it('should not claim an entry before it is due', async () => {
        expect(await store.outbox.claim('x', 10, 99, 200)).toEqual([]);
        expect(await store.outbox.countPending()).toBe(3);
      });

      it('should claim only the effect types asked for, the longest due first across them', async () => {
        // run-2's step, ten before run-1's, queued a timer, a node call and a timer's cancellation.
        const at = 90;
        await store.commitStep(
          stepCommit({
            run: runRecord({ id: 'run-2', createdAt: at, updatedAt: at }),
            leaseKey: 'L',
            leaseOwner: 'p',
            stepLogs: [{ ...stepLog(0, 'waiting'), runId: 'run-2', at }],
            effects: [
              { type: 'scheduleTimer', seq: 1, nodeId: 'wait', timerId: 't', dueAt: 5_000 },
              { type: 'executeNode', seq: 2, nodeId: 'call', nodeType: 'http_request', typeVersion: 1, params: {} },
              { type: 'cancelTimer', seq: 3, nodeId: 'wait', timerId: 't' },
            ],
          }),
        );
        const keys = (entries: OutboxEntry[]) => entries.map((e) => `${e.runId}#${e.seq}`);
        expect(keys(await store.outbox.claim('timers', 10, 200, 300, ['scheduleTimer', 'cancelTimer']))).toEqual(['run-2#1', 'run-2#3']);
        expect(keys(await store.outbox.claim('remote', 2, 200, 300, ['sendMessage', 'executeNode']))).toEqual(['run-2#2', 'run-1#1']);
        expect(await store.outbox.claim('none', 10, 200, 300, [])).toEqual([]);
        expect(keys(await store.outbox.claim('any', 10, 200, 300))).toEqual(['run-1#2', 'run-1#3']);
      });

      describe('between workspaces', () => {
        /** Commits a run of `workspaceId` whose step at `at` queued `count` sends. */
        const queueSends = (runId: string, workspaceId: string, at: number, count: number) =>
          store.commitStep(
            stepCommit({
              run: runRecord({ id: runId, workspaceId, createdAt: at, updatedAt: at }),
              leaseKey: 'L',
              leaseOwner: 'p',
              stepLogs: [{ ...stepLog(0, 'waiting'), runId, workspaceId, at }],
              effects: Array.from({ length: count }, (_, i) => sendEffect(i + 1)),
            }),
          );
        const keys = (entries: OutboxEntry[]) => entries.map((e) => `${e.runId}#${e.seq}`).sort();
        const held = (entries: Record<string, number>) => new Map(Object.entries(entries));

        it("should take turns, each workspace's longest due before any workspace's second", async () => {
          await queueSends('run-2', 'ws2', 150, 3); // ws's three sends are due at 100
          expect(keys(await store.outbox.claim('x', 4, 200, 300, ['sendMessage']))).toEqual(['run-1#1', 'run-1#2', 'run-2#1', 'run-2#2']);
          expect(keys(await store.outbox.claim('y', 10, 200, 300))).toEqual(['run-1#3', 'run-2#3']);
        });

        it('should give a workspace holding more its turns later, and never more than its share', async () => {
          await queueSends('run-2', 'ws2', 150, 3);
          const shares = { max: 3, held: held({ ws: 2 }) };
          expect(keys(await store.outbox.claim('x', 2, 200, 300, ['sendMessage'], shares))).toEqual(['run-2#1', 'run-2#2']);
          expect(keys(await store.outbox.claim('x', 10, 200, 300, ['sendMessage'], shares))).toEqual(['run-1#1', 'run-2#3']);
          // A workspace holding its whole share gets none, however long its effects have been due.
          expect(await store.outbox.claim('x', 10, 250, 500, ['sendMessage'], { max: 3, held: held({ ws: 3, ws2: 3 }) })).toEqual([]);
          expect(keys(await store.outbox.claim('x', 10, 250, 500, ['sendMessage'], { max: 3, held: held({ ws2: 3 }) }))).toEqual(['run-1#2', 'run-1#3']);
        });

        it('should serve more workspaces than one claim takes in rotation', async () => {
          for (const w of ['w-a', 'w-b', 'w-c']) await queueSends(`run-${w}`, w, 150, 4);
          // ws's sends are leased for good; three workspaces, two per claim: each has one in every three.
          await store.outbox.claim('x', 3, 100, 1e12, ['sendMessage']);
          const claimed: string[] = [];
          for (let i = 0; i < 3; i++) claimed.push(...(await store.outbox.claim('x', 2, 200, 300, ['sendMessage'])).map((e) => e.workspaceId));
          expect(claimed.sort()).toEqual(['w-a', 'w-a', 'w-b', 'w-b', 'w-c', 'w-c']);
        });
      });

      it('should journal the outcome of a completed effect exactly once', async () => {
        await store.outbox.claim('exec-a', 10, 100, 160);
        const outcome = journalInput('out-1', 'ws/c1', 120, 'effect:run-1:1');
        await store.outbox.complete('run-1', 1, { messageId: 'm1' }, 120, outcome);
        await store.outbox.complete('run-1', 1, { messageId: 'm2' }, 130, { ...outcome, id: 'out-2' });
        expect(await store.outbox.get('run-1', 1)).toMatchObject({ status: 'done', completedAt: 120, result: { messageId: 'm1' } });
        expect((await store.outbox.get('run-1', 1))?.leaseOwner).toBeUndefined();
        expect(ids(await store.journal.pendingForKey('ws/c1', 10))).toEqual(['out-1']);
        expect(await store.outbox.countPending()).toBe(2);
        expect((await store.outbox.claim('exec-b', 10, 500, 600)).map((e) => e.seq)).toEqual([2, 3]);
      });

      it('should journal a completion whose dedupe key is already there only once', async () => {
        const outcome = journalInput('out-1', 'ws/c1', 120, 'effect:run-1:1');
        await store.journal.append(outcome);
        await store.outbox.complete('run-1', 1, {}, 120, { ...outcome, id: 'out-2' });
        expect(ids(await store.journal.pendingForKey('ws/c1', 10))).toEqual(['out-1']);
        expect((await store.outbox.get('run-1', 1))?.status).toBe('done');
      });

      it('should make a failed effect pending again at retryAt', async () => {
        await store.outbox.claim('exec-a', 1, 100, 160);
        await store.outbox.fail('run-1', 1, 'HTTP 503', 300, 110);
        const entry = await store.outbox.get('run-1', 1);
        expect(entry).toMatchObject({ status: 'pending', availableAt: 300, attempts: 1 });
        expect(entry?.leaseOwner).toBeUndefined();
        expect((await store.outbox.claim('exec-b', 10, 200, 400)).map((e) => e.seq)).toEqual([2, 3]);
        expect((await store.outbox.claim('exec-b', 10, 300, 360)).map((e) => e.seq)).toEqual([1]);
        expect(await store.journal.countPending()).toBe(0);
      });

      it('should fail an effect for good and journal its node.failed once', async () => {
        await store.outbox.claim('exec-a', 1, 100, 160);
        const outcome = journalInput('fail-1', 'ws/c1', 110, 'effect:run-1:1');
        await store.outbox.fail('run-1', 1, 'HTTP 400', undefined, 110, outcome);
        await store.outbox.fail('run-1', 1, 'HTTP 400', undefined, 120, { ...outcome, id: 'fail-2', dedupeKey: 'other' });
        expect(await store.outbox.get('run-1', 1)).toMatchObject({ status: 'failed', completedAt: 110 });
        expect(ids(await store.journal.pendingForKey('ws/c1', 10))).toEqual(['fail-1']);
        expect((await store.outbox.claim('exec-b', 10, 1000, 1100)).map((e) => e.seq)).toEqual([2, 3]);
        await store.outbox.complete('run-1', 1, {}, 130, { ...outcome, id: 'late', dedupeKey: 'late' });
        expect((await store.outbox.get('run-1', 1))?.status).toBe('failed');
        expect(ids(await store.journal.pendingForKey('ws/c1', 10))).toEqual(['fail-1']);
      });

      it('should store a sent message with the completion, once, and only while the effect is pending', async () => {
        await store.outbox.claim('exec-a', 10, 100, 160);
        const sent = sentMessage({ at: 120 });
        const stored = await store.outbox.complete('run-1', 1, {}, 120, undefined, sent);
        expect(stored).toMatchObject(sent);
        expect(await store.messages.list('ws', 'c1')).toEqual([stored]);
        expect(await store.outbox.complete('run-1', 1, {}, 130, undefined, { ...sent, idempotencyKey: 'late' })).toBeUndefined();
        expect((await store.messages.list('ws', 'c1')).map((m) => m.idempotencyKey)).toEqual(['run-1:1']);
        // A message already recorded under the key (say by an earlier attempt) is returned, not doubled.
        const earlier = await store.messages.append({ ...sent, idempotencyKey: 'run-1:2', at: 90 });
        expect(await store.outbox.complete('run-1', 2, {}, 140, undefined, { ...sent, idempotencyKey: 'run-1:2' })).toEqual(earlier);
        expect((await store.messages.list('ws', 'c1')).map((m) => m.idempotencyKey)).toEqual(['run-1:1', 'run-1:2']);
      });

      it('should refuse to complete an effect that does not exist', async () => {
        await expect(store.outbox.complete('run-1', 99, {}, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
        await expect(store.outbox.fail('nope', 1, 'x', undefined, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    describe('messages', () => {
      const message = (key: string, at: number) => ({
        workspaceId: 'ws',
        contactId: 'c1',
        channel: 'simulator',
        direction: 'outbound' as const,
        message: { kind: 'text', text: key },
        runId: 'run-1',
        nodeId: 'n1',
        idempotencyKey: key,
        at,
      });

      it('should append a message once per idempotency key and list after a seq', async () => {
        const first = await store.messages.append(message('run-1:1', 10));
        expect(first).toMatchObject(message('run-1:1', 10));
        expect(await store.messages.append(message('run-1:1', 20))).toEqual(first);
        const second = await store.messages.append(message('run-1:2', 30));
        await store.messages.append({ ...message('run-1:3', 40), contactId: 'c2' });
        expect((await store.messages.list('ws', 'c1')).map((m) => m.idempotencyKey)).toEqual(['run-1:1', 'run-1:2']);
        expect(await store.messages.list('ws', 'c1', { afterSeq: first.seq })).toEqual([second]);
        expect(await store.messages.list('ws-other', 'c1')).toEqual([]);
      });

      it('should list one direction only when asked, the limit counting only those', async () => {
        const inbound = (key: string, at: number) => ({ ...message(key, at), direction: 'inbound' as const });
        await store.messages.append(inbound('in-1', 10));
        const out1 = await store.messages.append(message('run-1:1', 20));
        await store.messages.append(inbound('in-2', 30));
        const out2 = await store.messages.append(message('run-1:2', 40));
        expect(await store.messages.list('ws', 'c1', { direction: 'outbound' })).toEqual([out1, out2]);
        expect(await store.messages.list('ws', 'c1', { direction: 'outbound', limit: 1 })).toEqual([out1]);
        expect(await store.messages.list('ws', 'c1', { direction: 'outbound', afterSeq: out1.seq })).toEqual([out2]);
        expect((await store.messages.list('ws', 'c1', { direction: 'inbound' })).map((m) => m.idempotencyKey)).toEqual(['in-1', 'in-2']);
      });

      it('should say which conversations got messages after a seq, across workspaces, oldest first', async () => {
        expect(await store.messages.lastSeq()).toBe(0);
        expect(await store.messages.storedAfter(0, 10)).toEqual([]);
        const first = await store.messages.append(message('run-1:1', 10));
        const second = await store.messages.append({ ...message('in-1', 20), direction: 'inbound', workspaceId: 'ws-other', contactId: 'c9' });
        const third = await store.messages.append({ ...message('run-1:2', 30), channel: 'whatsapp' });
        expect(await store.messages.lastSeq()).toBe(third.seq);
        const ref = (m: typeof first) => ({ seq: m.seq, workspaceId: m.workspaceId, contactId: m.contactId, channel: m.channel, direction: m.direction });
        expect(await store.messages.storedAfter(0, 10)).toEqual([ref(first), ref(second), ref(third)]);
        expect(await store.messages.storedAfter(first.seq, 1)).toEqual([ref(second)]);
        expect(await store.messages.storedAfter(third.seq, 10)).toEqual([]);
        // A limit of 0 is nothing (to MongoDB, limit(0) would be everything).
        expect(await store.messages.storedAfter(0, 0)).toEqual([]);
      });
    });

    describe('leases', () => {
      it('should take a free lease, refuse a live one, renew its own and take over an expired one', async () => {
        expect(await store.leases.acquire('k', 'a', 100, 200)).toBe(true);
        expect(await store.leases.acquire('k', 'b', 150, 250)).toBe(false);
        expect(await store.leases.acquire('k', 'b', 200, 250)).toBe(false);
        expect(await store.leases.acquire('k', 'a', 190, 300)).toBe(true);
        expect(await store.leases.acquire('k', 'b', 250, 350)).toBe(false);
        expect(await store.leases.acquire('k', 'b', 301, 400)).toBe(true);
        expect(await store.leases.acquire('k', 'a', 350, 450)).toBe(false);
      });

      it('should take and release several leases at once, only those free or its own', async () => {
        expect(await store.leases.acquire('b', 'other', 100, 200)).toBe(true);
        expect(await store.leases.acquire('c', 'me', 100, 150)).toBe(true);
        expect(await store.leases.acquireMany(['a', 'b', 'c', 'd'], 'me', 120, 300)).toEqual(['a', 'c', 'd']);
        expect(await store.leases.acquire('c', 'other', 200, 400)).toBe(false); // renewed to 300
        await store.leases.releaseMany(['a', 'b', 'c'], 'me');
        expect(await store.leases.acquireMany(['a', 'b', 'c', 'd'], 'other', 130, 400)).toEqual(['a', 'b', 'c']);
        expect(await store.leases.acquireMany([], 'me', 130, 400)).toEqual([]);
      });

      it('should release only its own lease', async () => {
        await store.leases.acquire('k', 'a', 100, 200);
        await store.leases.release('k', 'b');
        expect(await store.leases.acquire('k', 'b', 110, 200)).toBe(false);
        await store.leases.release('k', 'a');
        expect(await store.leases.acquire('k', 'b', 110, 200)).toBe(true);
      });
    });

    describe('workspace isolation', () => {
      it('should show nothing of a workspace to a read with another workspace id', async () => {
        await store.flows.create({ workspaceId: 'ws-a', draft: flowDef('f1', 'A'), at: 1 });
        await store.flows.publish('ws-a', 'f1', 'x', 2);
        const contact = await store.contacts.create('ws-a', { name: 'Ann' }, [{ channel: 'sms', externalId: '1' }], 1);
        await store.leases.acquire('L', 'p', 0, 1e12);
        await store.commitStep(stepCommit({ leaseKey: 'L', leaseOwner: 'p', run: runRecord({ workspaceId: 'ws-a', contactId: contact.id }), stepLogs: [{ ...stepLog(0, 'waiting'), workspaceId: 'ws-a' }] }));

        expect(await store.flows.get('ws-b', 'f1')).toBeUndefined();
        expect(await store.flows.list('ws-b')).toEqual([]);
        expect(await store.flows.getVersion('ws-b', 'f1', 1)).toBeUndefined();
        expect(await store.flows.listVersions('ws-b', 'f1')).toEqual([]);
        expect(await store.flows.listActive('ws-b')).toEqual([]);
        expect(await store.flows.activate('ws-b', 'f1', 1, 3)).toBeUndefined();
        expect(await store.flows.delete('ws-b', 'f1')).toBe(false);
        expect(await store.contacts.get('ws-b', contact.id)).toBeUndefined();
        expect(await store.contacts.findByIdentity('ws-b', { channel: 'sms', externalId: '1' })).toBeUndefined();
        expect((await store.contacts.list('ws-b')).items).toEqual([]);
        expect(await store.runs.get('ws-b', 'run-1')).toBeUndefined();
        expect((await store.runs.list('ws-b', {})).items).toEqual([]);
        expect(await store.runs.listActiveForContact('ws-b', contact.id)).toEqual([]);
        expect(await store.runs.countByStatus('ws-b')).toEqual({ running: 0, waiting: 0, done: 0, failed: 0, cancelled: 0 });
        expect(await store.flows.get('ws-a', 'f1')).toBeDefined();
      });
    });

    describe('prune', () => {
      const DAY = 86_400_000;
      const policy = { stepLogMs: 7 * DAY, journalMs: 2 * DAY, outboxMs: 3 * DAY, endedRunsMs: 30 * DAY, messagesMs: 60 * DAY };
      const now = 100 * DAY;

      it('should remove only what the policy lets go', async () => {
        await store.leases.acquire('L', 'p', 0, 1e15);
        const commitRun = async (id: string, endedAt: number | undefined, at: number) => {
          const status: StoredRunStatus = endedAt === undefined ? 'waiting' : 'done';
          await store.commitStep(
            stepCommit({
              leaseKey: 'L',
              leaseOwner: 'p',
              run: runRecord({ id, status, createdAt: at, updatedAt: at, ...(endedAt === undefined ? {} : { endedAt }) }),
              stepLogs: [{ ...stepLog(0, status), runId: id, at }],
              effects: [{ ...sendEffect(1) }],
            }),
          );
        };
        await commitRun('ancient', now - 40 * DAY, now - 41 * DAY); // run deleted with its log
        await commitRun('old', now - 10 * DAY, now - 11 * DAY); // run kept, log deleted
        await commitRun('recent', now - 1 * DAY, now - 20 * DAY); // ended recently: kept whole
        await commitRun('alive', undefined, now - 50 * DAY); // never ended: kept whole

        // outbox: ancient's effect done long ago, old's failed long ago, recent's done just now, alive's pending
        await store.outbox.complete('ancient', 1, {}, now - 40 * DAY);
        await store.outbox.fail('old', 1, 'x', undefined, now - 4 * DAY);
        await store.outbox.complete('recent', 1, {}, now - 1 * DAY);

        await store.journal.append(journalInput('j-old', 'K1', now - 5 * DAY));
        await store.journal.markProcessed('j-old', now - 5 * DAY);
        await store.journal.append(journalInput('j-failed', 'K2', now - 5 * DAY));
        await store.journal.markFailed('j-failed', 'bad', now - 5 * DAY);
        await store.journal.append(journalInput('j-new', 'K3', now - DAY));
        await store.journal.markProcessed('j-new', now - DAY);
        await store.journal.append(journalInput('j-pending', 'K4', now - 50 * DAY));

        // Messages go oldest first in the order they were stored, up to the first one still kept:
        // the straggler, stamped old but stored after a recent one, waits for a later prune.
        const stored = async (key: string, at: number) => store.messages.append(sentMessage({ idempotencyKey: key, at }));
        await stored('m-ancient', now - 90 * DAY);
        await stored('m-old', now - 70 * DAY);
        await stored('m-recent', now - 10 * DAY);
        await stored('m-straggler', now - 80 * DAY);
        await stored('m-new', now - DAY);

        const report = await store.prune(policy, now);
        expect(report).toEqual({ runs: 1, stepLog: 2, journal: 2, outbox: 2, messages: 2 });
        expect((await store.messages.list('ws', 'c1')).map((m) => m.idempotencyKey)).toEqual(['m-recent', 'm-straggler', 'm-new']);

        expect(await store.runs.get('ws', 'ancient')).toBeUndefined();
        expect(await store.runs.stepLog('ancient')).toEqual([]);
        expect(await store.runs.get('ws', 'old')).toBeDefined();
        expect(await store.runs.stepLog('old')).toEqual([]);
        expect(await store.runs.stepLog('recent')).toHaveLength(1);
        expect(await store.runs.stepLog('alive')).toHaveLength(1);
        expect(await store.outbox.get('ancient', 1)).toBeUndefined();
        expect(await store.outbox.get('old', 1)).toBeUndefined();
        expect(await store.outbox.get('recent', 1)).toBeDefined();
        expect(await store.outbox.get('alive', 1)).toBeDefined();
        expect(ids(await store.journal.pendingForKey('K4', 10))).toEqual(['j-pending']);
        // j-new survives: appending it again is still a redelivery.
        expect((await store.journal.append(journalInput('j-new-again', 'K3', now, 'j-new'))).inserted).toBe(false);
        expect((await store.journal.append(journalInput('j-old-again', 'K1', now, 'j-old'))).inserted).toBe(true);

        expect(await store.prune(policy, now)).toEqual({ runs: 0, stepLog: 0, journal: 0, outbox: 0, messages: 0 });
      });

      it('should keep messages for good when the policy names no message retention', async () => {
        await store.messages.append(sentMessage({ idempotencyKey: 'm-ancient', at: 1 }));
        const { messagesMs: _kept, ...noMessages } = policy;
        expect((await store.prune(noMessages, now)).messages).toBe(0);
        expect((await store.messages.list('ws', 'c1')).map((m) => m.idempotencyKey)).toEqual(['m-ancient']);
        expect((await store.prune(policy, now)).messages).toBe(1);
        expect(await store.messages.list('ws', 'c1')).toEqual([]);
      });
    });
  });
}

/** A small valid-looking flow definition. */
export function flowDef(id: string, name: string): FlowDefinition {
  return {
    id,
    name,
    triggers: [{ id: 't1', type: 'keyword', params: { keywords: ['hi'] } }],
    nodes: [{ id: 'n1', type: 'sendMessage', typeVersion: 1, position: { x: 0, y: 0 }, params: { text: 'Hello' } }],
    edges: [],
    variables: [],
    settings: { channels: ['whatsapp'], defaultReplyTimeout: 'PT24H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
  };
}

/** A journal entry to append; the dedupe key defaults to the id. */
export function journalInput(
  id: string,
  orderingKey: string,
  receivedAt: number,
  dedupeKey = id,
): Omit<JournalEntry, 'seq' | 'status' | 'attempts'> {
  return { id, workspaceId: 'ws', kind: 'message', dedupeKey, orderingKey, payload: { n: id }, receivedAt };
}

/** A run as a step leaves it. */
export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 'run-1',
    workspaceId: 'ws',
    flowId: 'f1',
    flowVersion: 1,
    contactId: 'c1',
    triggerId: 't1',
    channel: 'whatsapp',
    status: 'waiting',
    waiting: { nodeId: 'n2', for: 'reply' },
    snapshot: { value: 'n2', context: { vars: { a: 1 } } },
    stepCount: 1,
    createdAt: 100,
    updatedAt: 100,
    ...over,
  };
}

/** The step log entry of step `stepNo` of run-1. */
export function stepLog(stepNo: number, status: StoredRunStatus) {
  return {
    runId: 'run-1',
    workspaceId: 'ws',
    stepNo,
    at: 100,
    event: stepNo === 0 ? 'run.started' : 'message.received',
    path: [{ nodeId: 'n1', output: 'sent', at: 100 }, { nodeId: 'n2', at: 100 }],
    effects: ['sendMessage#1'],
    status,
  };
}

/** What run-1's send #1 stored in the conversation (override any field). */
export function sentMessage(over: Partial<Omit<ConversationMessage, 'seq'>> = {}): Omit<ConversationMessage, 'seq'> {
  return {
    workspaceId: 'ws',
    contactId: 'c1',
    channel: 'simulator',
    direction: 'outbound',
    message: { kind: 'text', text: 'hi' },
    runId: 'run-1',
    nodeId: 'n1',
    idempotencyKey: 'run-1:1',
    at: 100,
    ...over,
  };
}

/** A sendMessage effect with this seq. */
export function sendEffect(seq: number): Effect {
  return { type: 'sendMessage', seq, nodeId: 'n1', message: { kind: 'text', text: `hello ${seq}` } } as Effect;
}

/** The first step of run-1 under lease `ws/c1` held by `p1`. */
export function stepCommit(over: Partial<StepCommit>): StepCommit {
  return {
    run: runRecord(),
    isNew: true,
    leaseOwner: 'p1',
    leaseKey: 'ws/c1',
    stepLogs: [stepLog(0, 'waiting')],
    effects: [sendEffect(1)],
    ...over,
  };
}

const ids = (entries: JournalEntry[]): string[] => entries.map((e) => e.id);

/** Everything a commit of run-1 could touch, to show a failed commit touched none of it. */
async function snapshotOf(store: StoragePort, contactId: string): Promise<JsonObject> {
  return JSON.parse(
    JSON.stringify({
      run: await store.runs.get('ws', 'run-1'),
      log: await store.runs.stepLog('run-1'),
      outbox: [await store.outbox.get('run-1', 1), await store.outbox.get('run-1', 2)],
      journal: await store.journal.pendingForKey('key', 10),
      contact: await store.contacts.get('ws', contactId),
    }),
  ) as JsonObject;
}
