import { createAgendaScheduler, createRuntime, createSimulatorChannel, SqliteAgendaBackend } from '../src/index.js';
import { chainFlow, startApiEnv, testCatalogue, type ApiEnv } from './api-support.js';

let env: ApiEnv;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());

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
    const runtime = createRuntime({
      store: env.store,
      catalogue: testCatalogue,
      scheduler: createAgendaScheduler({ backend: new SqliteAgendaBackend(env.store.db), processEvery: 50 }),
      channels: new Map([['simulator', createSimulatorChannel()]]),
      fetch,
      pollMs: 20,
    });
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
