import request from 'supertest';
import { checkEffectLanes, DEFAULT_EFFECT_LANES } from '../src/runtime/effect-executor.js';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { startHeldRemote, type HeldRemote } from './support/held-remote.js';
import { waitFor } from './support/wait-for.js';

describe('effect lanes', () => {
  // The default lanes, as the server runs them.
  let env: ApiEnv;
  let h: Harness;
  let remote: HeldRemote;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.dispose());
  beforeEach(async () => {
    h = await env.harness();
    await h.store.workspaces.updateSettings(h.ws, { allowPrivateNetwork: true });
    remote = await startHeldRemote('{"ok":true}');
  });
  afterEach(() => remote.close());

  const say = (contact: string, text: string) => request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact, text }).expect(202);
  const transcript = async (contact: string): Promise<string[]> => {
    const res = await request(h.app).get('/api/simulator/messages').query({ contact }).set(h.auth()).expect(200);
    return res.body.items.map((m: { message: { text: string } }) => m.message.text);
  };

  it('should start a delay while every slot for node calls waits on a slow remote', async () => {
    await h.publish(chainFlow('call', { id: 'k', type: 'keyword', params: { keywords: ['call'], match: 'exact' } }, [['ask', 'http_request', { method: 'GET', url: remote.url }]]));
    await h.publish(
      chainFlow('pause', { id: 'k', type: 'keyword', params: { keywords: ['pause'], match: 'exact' } }, [
        ['wait', 'delay', { duration: 'PT0.1S' }, 'done'],
        ['after', 'send_text', { text: 'after the pause' }],
      ]),
    );
    const lane = DEFAULT_EFFECT_LANES.find((l) => l.types.includes('executeNode'))!;
    const nodeCallSlots = lane.perWorkspace ?? lane.concurrency; // all this workspace may hold
    for (let i = 0; i < nodeCallSlots + 4; i++) await say(`caller-${i}`, 'call');
    await waitFor(() => remote.calls() === nodeCallSlots);

    await say('pauser', 'pause');
    // In one pool of slots, the delay's timer waited behind the held calls until they were answered.
    await waitFor(async () => (await transcript('pauser')).length > 0);
    expect(await transcript('pauser')).toEqual(['after the pause']);
    expect(remote.calls()).toBe(nodeCallSlots); // the lane's limit holds: four calls still wait

    remote.release();
    await h.settle();
    expect(remote.calls()).toBe(nodeCallSlots + 4);
    expect((await h.runs()).map((r) => r.status)).toEqual(Array(nodeCallSlots + 5).fill('done'));
    expect(env.takeProblems()).toEqual([]);
  });

  it("should call out for another workspace while one workspace's slow calls hold all the slots it may", async () => {
    const callFlow = (url: string) =>
      chainFlow('call', { id: 'k', type: 'keyword', params: { keywords: ['call'], match: 'exact' } }, [['ask', 'http_request', { method: 'GET', url }]]);
    await h.publish(callFlow(remote.url));
    const other = await env.harness();
    await other.store.workspaces.updateSettings(other.ws, { allowPrivateNetwork: true });
    const quick = await startHeldRemote('{"ok":true}');
    quick.release();
    try {
      await other.publish(callFlow(quick.url));
      const lane = DEFAULT_EFFECT_LANES.find((l) => l.types.includes('executeNode'))!;
      const share = lane.perWorkspace ?? lane.concurrency;
      expect(share).toBeLessThan(lane.concurrency); // else one workspace could hold them all

      for (let i = 0; i < lane.concurrency + 4; i++) await say(`caller-${i}`, 'call');
      await waitFor(() => remote.calls() === share);
      await request(other.app).post('/api/simulator/messages').set(other.auth()).send({ contact: 'other', text: 'call' }).expect(202);
      // Before shares, the other workspace's call waited until the held calls were answered.
      await waitFor(async () => (await env.store.runs.countByStatus(other.ws)).done === 1);
      expect(quick.calls()).toBe(1);
      expect(remote.calls()).toBe(share); // the busy workspace still has no more than its share

      remote.release();
      await h.settle();
      expect(remote.calls()).toBe(lane.concurrency + 4);
      expect(await env.store.runs.countByStatus(h.ws)).toMatchObject({ done: lane.concurrency + 4, running: 0, waiting: 0, failed: 0 });
      expect(env.takeProblems()).toEqual([]);
    } finally {
      await quick.close();
    }
  });
});

describe('checkEffectLanes', () => {
  const all = ['scheduleTimer', 'cancelTimer', 'sendMessage', 'executeNode'] as const;

  it('should take the default lanes, and one lane for every type', () => {
    expect(() => checkEffectLanes(DEFAULT_EFFECT_LANES)).not.toThrow();
    expect(() => checkEffectLanes([{ name: 'all', types: all, concurrency: 1 }])).not.toThrow();
  });

  it('should refuse lanes that leave a type without slots', () => {
    expect(() => checkEffectLanes([{ name: 'most', types: ['scheduleTimer', 'cancelTimer', 'sendMessage'], concurrency: 4 }])).toThrow(
      new TypeError('no effect lane takes "executeNode": such effects would never run'),
    );
  });

  it('should refuse a type in two lanes', () => {
    expect(() =>
      checkEffectLanes([
        { name: 'a', types: all, concurrency: 4 },
        { name: 'b', types: ['sendMessage'], concurrency: 4 },
      ]),
    ).toThrow(new TypeError('effect type "sendMessage" is in two lanes: "a" and "b"'));
  });

  it('should refuse a lane without slots, or with a type that does not exist', () => {
    expect(() => checkEffectLanes([{ name: 'all', types: all, concurrency: 0 }])).toThrow(
      new TypeError('effect lane "all": concurrency must be a whole number of at least 1, not 0'),
    );
    expect(() => checkEffectLanes([{ name: 'all', types: [...all, 'sendFax' as 'sendMessage'], concurrency: 2 }])).toThrow(
      new TypeError('effect lane "all": "sendFax" is not an effect type'),
    );
    expect(() => checkEffectLanes([{ name: 'all', types: all, concurrency: 4, perWorkspace: 0 }])).toThrow(
      new TypeError('effect lane "all": perWorkspace must be a whole number of at least 1, not 0'),
    );
  });
});
