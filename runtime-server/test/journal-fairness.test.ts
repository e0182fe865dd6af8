import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { waitFor } from './support/wait-for.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
  h = await env.harness();
});
afterAll(() => env.dispose());

const BACKLOG = 3_000;

// A bulk start of runs in one workspace (a broadcast, an import) used to hold up every other
// workspace's replies until it had drained: the journal was served in arrival order only.
describe('workspaces at the journal', () => {
  it("should answer another workspace's message while one workspace's backlog drains", async () => {
    const echo = chainFlow('echo', { id: 'any', type: 'message.received', params: {} }, [['say', 'send_text', { text: 'hello' }]]);
    await h.publish(echo);
    const other = await env.harness(); // a second tenant, with a workspace of its own
    await other.publish(echo);

    const message = (i: number) => ({ id: `m${i}`, channel: 'simulator' as const, from: `contact-${i}`, text: 'hi', sentAt: Date.now() });
    await Promise.all(Array.from({ length: BACKLOG }, (_, i) => env.runtime.receiveMessage(h.ws, message(i))));
    await env.runtime.receiveMessage(other.ws, message(BACKLOG));

    await waitFor(async () => (await env.store.runs.countByStatus(other.ws)).done === 1, 10_000);
    const doneMeanwhile = (await env.store.runs.countByStatus(h.ws)).done;
    expect(doneMeanwhile).toBeLessThan(BACKLOG / 2);
    await env.runtime.idle(60_000);
    expect((await env.store.runs.countByStatus(h.ws)).done).toBe(BACKLOG);
  });
});
