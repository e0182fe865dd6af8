import request from 'supertest';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { startHeldRemote, type HeldRemote } from './support/held-remote.js';
import { waitFor } from './support/wait-for.js';

// One lane of one slot for every effect, so a held HTTP call keeps the next effect (a timer) queued
// while the disk fills. Short leases: an effect whose completion could not be written would be
// taken again soon.
let env: ApiEnv;
let h: Harness;
let remote: HeldRemote;
beforeAll(async () => {
  env = await startApiEnv({
    runtime: { effectLanes: [{ name: 'all', types: ['executeNode', 'scheduleTimer', 'cancelTimer', 'sendMessage'], concurrency: 1 }], leaseMs: 400 },
  });
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness();
  await h.store.workspaces.updateSettings(h.ws, { allowPrivateNetwork: true });
});
afterEach(async () => {
  env.store.db.pragma('max_page_count = 1073741823');
  await remote.close();
});

/** Makes the file unable to grow: the next write that needs a page fails with SQLITE_FULL. */
function capFileAtItsSize(): void {
  const db = env.store.db;
  db.pragma('incremental_vacuum'); // no free pages left over from earlier writes
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
}

/**
 * Publishes a flow whose HTTP call gets a big answer (its outcome event needs pages of its own),
 * has `contact` say `keyword`, and lets the call be answered only once the file cannot grow.
 */
async function callAnsweredOnFullDisk(keyword: string, contact: string): Promise<void> {
  remote = await startHeldRemote(JSON.stringify({ pad: 'x'.repeat(30_000) }));
  await h.publish(
    chainFlow(keyword, { id: 'k', type: 'keyword', params: { keywords: [keyword], match: 'exact' } }, [
      ['ask', 'http_request', { method: 'GET', url: remote.url }, 'success'],
      ['tell', 'send_text', { text: 'fetched' }],
    ]),
  );
  await say(contact, keyword);
  await remote.called;
  capFileAtItsSize();
  remote.release();
}

const say = (contact: string, text: string) => request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact, text }).expect(202);
const transcript = async (contact: string): Promise<string[]> => {
  const res = await request(h.app).get('/api/simulator/messages').query({ contact }).set(h.auth()).expect(200);
  return res.body.items.map((m: { message: { text: string } }) => m.message.text);
};

describe('an effect that meets a full disk', () => {
  it('should be taken again once there is room, never recorded as failed', async () => {
    remote = await startHeldRemote('{"ok":true}');
    await h.publish(chainFlow('call', { id: 'k', type: 'keyword', params: { keywords: ['call'], match: 'exact' } }, [['ask', 'http_request', { method: 'GET', url: remote.url }]]));
    await h.publish(
      chainFlow('pause', { id: 'k', type: 'keyword', params: { keywords: ['pause'], match: 'exact' } }, [
        ['wait', 'delay', { duration: 'PT0.1S' }, 'done'],
        ['after', 'send_text', { text: 'after the pause' }],
      ]),
    );
    await say('caller', 'call');
    await remote.called;
    await say('pauser', 'pause');
    const timerEffect = env.store.db.prepare<[string], { status: string; claimed: number }>(
      `SELECT status, lease_owner IS NOT NULL AS claimed FROM outbox WHERE workspace_id = ? AND json_extract(effect, '$.type') = 'scheduleTimer'`,
    );
    await waitFor(() => timerEffect.get(h.ws) !== undefined);

    // The delay's timer is queued behind the held call. Fill the file up to its last page, then
    // let the call finish: storing the timer is the next write that needs a page.
    const db = env.store.db;
    capFileAtItsSize();
    let fillers = 0;
    for (;;) {
      try {
        await env.scheduler.scheduleTimer({ timerId: `filler-${fillers}`, dueAt: Date.UTC(2100, 0, 1), payload: {} });
        fillers += 1;
      } catch (err) {
        expect(err).toMatchObject({ name: 'StorageError', code: 'FULL' });
        break;
      }
    }
    remote.release();
    // Taken, and tried for a while (a warning says so at most every 10 s, so not necessarily here).
    await waitFor(() => timerEffect.get(h.ws)?.claimed === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(timerEffect.get(h.ws)).toEqual({ status: 'pending', claimed: 1 });
    expect(await transcript('pauser')).toEqual([]);

    db.pragma('max_page_count = 1073741823');
    for (let i = 0; i < fillers; i++) await env.scheduler.cancelTimer(`filler-${i}`);
    await waitFor(() => timerEffect.get(h.ws)?.status === 'done', 10_000);
    await h.settle();
    expect(await transcript('pauser')).toEqual(['after the pause']);
    expect((await h.runs()).map((r) => r.status)).toEqual(['done', 'done']);
  });

  it('should write the outcome of work already done once there is room, never doing the work again', async () => {
    await callAnsweredOnFullDisk('fetch', 'fetcher');
    // Several leases of 400 ms lapse meanwhile: the call is not claimed and made again, and its
    // outcome is not written yet (the run has not gone on).
    await new Promise((r) => setTimeout(r, 1_500));
    expect(remote.calls()).toBe(1);
    expect(await transcript('fetcher')).toEqual([]);

    env.store.db.pragma('max_page_count = 1073741823');
    await waitFor(() => h.store.db.prepare("SELECT count(*) AS n FROM outbox WHERE workspace_id = ? AND status = 'pending'").pluck().get(h.ws) === 0, 10_000);
    await h.settle();
    expect(await transcript('fetcher')).toEqual(['fetched']);
    expect((await h.runs()).map((r) => r.status)).toEqual(['done']);
    expect(remote.calls()).toBe(1);
    expect(env.takeProblems().filter((p) => p.startsWith('error'))).toEqual([]);
  });

  // Last: it stops the runtime of this file.
  it('should let the runtime stop while every slot waits for the store', async () => {
    await callAnsweredOnFullDisk('stall', 'staller');
    await new Promise((r) => setTimeout(r, 300)); // the call is answered; its outcome waits for room
    const stopped = env.runtime.stop().then(() => 'stopped');
    const waited = new Promise((r) => setTimeout(() => r('still stopping after 3 s'), 3_000));
    expect(await Promise.race([stopped, waited])).toBe('stopped');
    // Not recorded as failed: performed again after the next start, with the same idempotency key.
    expect(h.store.db.prepare("SELECT status FROM outbox WHERE workspace_id = ? AND json_extract(effect, '$.type') = 'executeNode'").pluck().get(h.ws)).toBe('pending');
  });
});
