import { MessageWatcher } from '../src/runtime/message-watcher.js';
import type { MessageStored } from '../src/runtime/runtime-port.js';
import { createSqliteStore, type SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

describe('MessageWatcher', () => {
  let store: SqliteStore;
  let contactId: string;
  let n = 0;
  const say = (direction: 'inbound' | 'outbound', channel = 'simulator') =>
    store.messages.append({
      workspaceId: 'ws',
      contactId,
      channel,
      direction,
      message: { kind: 'text', text: `m${(n += 1)}` },
      idempotencyKey: `k${n}`,
      at: n,
    });
  const until = async (check: () => boolean, ms = 2_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  beforeEach(async () => {
    store = createSqliteStore({ file: ':memory:' });
    await store.migrate();
    await store.workspaces.create({ id: 'ws', name: 'Acme' });
    const contact = await store.contacts.create('ws', {}, [{ channel: 'simulator', externalId: 'alice' }, { channel: 'whatsapp', externalId: '+15550001' }], 1);
    contactId = contact.id;
  });
  afterEach(() => store.close());

  it('should announce outbound messages stored while somebody listens, under the identity of their channel', async () => {
    await say('outbound'); // before anybody listened: not announced
    const events: MessageStored[] = [];
    const watcher = new MessageWatcher(store, 5, (e) => events.push(e), (err) => {
      throw err;
    });
    const release = watcher.retain();
    await say('inbound');
    const simulator = await say('outbound');
    const whatsapp = await say('outbound', 'whatsapp');
    await until(() => events.length >= 2);
    expect(events).toEqual([
      { workspaceId: 'ws', contactId, channel: 'simulator', externalId: 'alice', seq: simulator.seq },
      { workspaceId: 'ws', contactId, channel: 'whatsapp', externalId: '+15550001', seq: whatsapp.seq },
    ]);

    // Nobody listening: nothing announced, and a new listener starts from the end.
    release();
    await say('outbound');
    await new Promise((resolve) => setTimeout(resolve, 30));
    const releaseAgain = watcher.retain();
    const later = await say('outbound');
    await until(() => events.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(events.slice(2).map((e) => e.seq)).toEqual([later.seq]);
    releaseAgain();
    watcher.close();
  });

  it('should poll on for a while after the last listener left, then stop', async () => {
    const calls = { lastSeq: 0, storedAfter: 0 };
    const counted = {
      contacts: store.contacts,
      messages: {
        ...store.messages,
        lastSeq: () => ((calls.lastSeq += 1), store.messages.lastSeq()),
        storedAfter: (afterSeq: number, limit: number) => ((calls.storedAfter += 1), store.messages.storedAfter(afterSeq, limit)),
      },
    };
    const events: MessageStored[] = [];
    const watcher = new MessageWatcher(counted, 5, (e) => events.push(e), (err) => {
      throw err;
    }, 60);
    try {
      watcher.retain()();
      // A listener coming back while the watcher lingers: no new starting point, and its reply is announced.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const release = watcher.retain();
      const reply = await say('outbound');
      await until(() => events.length >= 1);
      expect(events.map((e) => e.seq)).toEqual([reply.seq]);
      expect(calls.lastSeq).toBe(1);
      release();

      await new Promise((resolve) => setTimeout(resolve, 300)); // well past the linger
      const polls = calls.storedAfter;
      expect(polls).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(calls.storedAfter).toBe(polls);
    } finally {
      watcher.close();
    }
  });

  it('should count listeners afresh after close, whatever the listeners from before do', async () => {
    const events: MessageStored[] = [];
    const watcher = new MessageWatcher(store, 5, (e) => events.push(e), (err) => {
      throw err;
    });
    const before = watcher.retain();
    watcher.close();
    const after = watcher.retain();
    before(); // counted out by close already: must not count out the new listener
    const reply = await say('outbound');
    await until(() => events.length >= 1);
    expect(events.map((e) => e.seq)).toEqual([reply.seq]);
    after();
    watcher.close();
  });
});
