import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgendaScheduler, createRuntime, createSimulatorChannel, SqliteAgendaBackend } from '../src/index.js';
import { chainFlow, startApiEnv, testCatalogue, type ApiEnv } from './api-support.js';

let env: ApiEnv;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());

/** A runtime of its own over the shared store, polling fast, as a second process would run. */
function runtimeOnSharedStore(options: { leaseMs?: number } = {}) {
  return createRuntime({
    store: env.store,
    catalogue: testCatalogue,
    scheduler: createAgendaScheduler({ backend: new SqliteAgendaBackend(env.store.db), processEvery: 50 }),
    channels: new Map([['simulator', createSimulatorChannel()]]),
    fetch,
    pollMs: 20,
    ...options,
  });
}

const echoFlow = chainFlow('echo', { id: 'any', type: 'message.received', params: {} }, [
  ['reply', 'send_text', { text: 'echo: {{trigger.message.text}}' }],
]);

describe('journal leases', () => {
  it('should let go of every contact once its backlog is done, also one that finished while others went on', async () => {
    const h = await env.harness();
    await h.publish(echoFlow);
    // Journal a backlog with no worker running, so one tick takes it all: "short" ends in round 16
    // (its contact-created event, then 15 messages), the round that renews the leases of the
    // contacts still going ("long").
    await env.runtime.stop();
    const backlog: Array<[contact: string, count: number]> = [['long', 40], ['short', 15]];
    for (const [contact, count] of backlog) {
      for (let i = 0; i < count; i += 1) {
        await env.runtime.receiveMessage(h.ws, { id: `${contact}-${i}`, channel: 'simulator', from: contact, text: `${contact} ${i}`, sentAt: 1 });
      }
    }
    const runtime = runtimeOnSharedStore();
    await runtime.start();
    try {
      await runtime.idle();
      for (const [contact, count] of backlog) {
        const replies = await runtime.simulatorTranscript(h.ws, contact, 0);
        expect(replies.map((r) => (r.message as { text?: string }).text)).toEqual(
          Array.from({ length: count }, (_, i) => `echo: ${contact} ${i}`),
        );
      }
      expect(env.store.db.prepare('SELECT key, owner FROM leases').all()).toEqual([]);
    } finally {
      await runtime.stop();
    }
  });
});

describe('effect leases', () => {
  it('should perform an effect that outlives its lease once: the lease is renewed while it runs', async () => {
    // A remote that takes 1.2 s to answer, against effect leases of 300 ms.
    let calls = 0;
    const remote = createServer((_req, res) => {
      calls += 1;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 1_200);
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(remote.address() as AddressInfo).port}/slow`;
    const h = await env.harness();
    await h.store.workspaces.updateSettings(h.ws, { allowPrivateNetwork: true });
    await h.publish(chainFlow('slow', { id: 'api', type: 'api', params: {} }, [['call', 'http_request', { method: 'GET', url }, 'success'], ['end', 'end', {}]]));
    await env.runtime.stop();
    const runtime = runtimeOnSharedStore({ leaseMs: 300 });
    await runtime.start();
    try {
      const contact = await env.store.contacts.create(h.ws, {}, [], Date.now());
      await runtime.startByApi(h.ws, 'slow', { contactId: contact.id });
      await runtime.idle();
      expect(calls).toBe(1);
      const [run] = (await env.store.runs.list(h.ws, { flowId: 'slow' })).items;
      expect(run?.status).toBe('done');
    } finally {
      await runtime.stop();
      await new Promise((resolve) => remote.close(resolve));
    }
  });
});
