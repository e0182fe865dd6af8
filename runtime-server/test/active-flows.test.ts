import type { InboundMessage } from '@convoflow/engine';
import { ActiveFlows } from '../src/runtime/active-flows.js';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { flowDef } from './storage-contract.js';

const TTL_MS = 30;
const hi: InboundMessage = { id: 'm1', channel: 'whatsapp', from: '+85291234567', text: 'hi', sentAt: 0 };
const expire = () => new Promise((r) => setTimeout(r, TTL_MS * 2));

describe('ActiveFlows', () => {
  let store: SqliteStore;
  let active: ActiveFlows;

  beforeEach(async () => {
    store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    active = new ActiveFlows(store, TTL_MS);
    for (const id of ['f1', 'f2']) {
      await store.flows.create({ workspaceId: 'ws', draft: flowDef(id, id), at: 1 });
      await store.flows.publish('ws', id, 'ann', 2);
    }
  });

  afterEach(() => store.close());

  const startedBy = async (message: InboundMessage) =>
    (await active.triggers('ws')).match({ kind: 'message', message }).map((m) => `${m.version.flowId}@${m.version.version}`);

  it('should keep the index while the same versions stay active', async () => {
    const first = await active.triggers('ws');
    await expire();
    expect(await active.triggers('ws')).toBe(first);
    expect(await startedBy(hi)).toEqual(['f1@1', 'f2@1']);
  });

  // As another process sharing the store changes them: nothing here is told.
  it('should see a publish, a rollback and a delete made elsewhere once its entry expires', async () => {
    expect(await startedBy(hi)).toEqual(['f1@1', 'f2@1']);
    await store.flows.updateDraft('ws', 'f1', { ...flowDef('f1', 'f1'), triggers: [] }, 1, 3);
    await store.flows.publish('ws', 'f1', 'ann', 4);
    await expire();
    expect(await startedBy(hi)).toEqual(['f2@1']);

    await store.flows.activate('ws', 'f1', 1, 5);
    await expire();
    expect(await startedBy(hi)).toEqual(['f1@1', 'f2@1']);

    await store.flows.delete('ws', 'f2');
    await expire();
    expect(await startedBy(hi)).toEqual(['f1@1']);

    await store.flows.create({ workspaceId: 'ws', draft: flowDef('f3', 'f3'), at: 6 });
    await store.flows.publish('ws', 'f3', 'ann', 7);
    await expire();
    expect(await startedBy(hi)).toEqual(['f1@1', 'f3@1']);
  });

  it('should read everything again at once when invalidated, as a publish in this process does', async () => {
    const lasting = new ActiveFlows(store, 60_000);
    const names = async () => (await lasting.triggers('ws')).versions.map((v) => v.flowId);
    expect(await names()).toEqual(['f1', 'f2']);
    await store.flows.delete('ws', 'f1');
    expect(await names()).toEqual(['f1', 'f2']);
    lasting.invalidate('ws');
    expect(await names()).toEqual(['f2']);
  });
});
