import request from 'supertest';
import type { FlowDefinition, JsonObject } from '@convoflow/engine';
import { startTestServer, type TestServer } from './support/test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.dispose();
});

const auth = () => ({ authorization: `Bearer ${server.adminKey}` });

async function say(contact: string, text: string, extra: JsonObject = {}) {
  const res = await request(server.app)
    .post('/api/simulator/messages')
    .set(auth())
    .send({ contact, text, ...extra })
    .expect(202);
  await server.runtime.idle();
  return res.body as { accepted: boolean; journalId: string };
}

async function transcript(contact: string): Promise<string[]> {
  const res = await request(server.app).get('/api/simulator/messages').query({ contact }).set(auth()).expect(200);
  const items = (res.body.messages ?? res.body.items ?? res.body) as Array<{ message: { text?: string } }>;
  return items.map((m) => m.message.text ?? '');
}

async function publish(flow: FlowDefinition): Promise<string> {
  const created = await request(server.app).post('/api/flows').set(auth()).send(flow).expect(201);
  const id = created.body.flow.id as string;
  await request(server.app).post(`/api/flows/${id}/publish`).set(auth()).expect(201);
  return id;
}

describe('the durable runtime with the demo flows', () => {
  it('should answer a greeting with the welcome menu and follow the button pressed', async () => {
    await say('alice', 'Hello there');
    const first = await transcript('alice');
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/^Hi there! Welcome to Acme Outdoor/);
    expect(first[1]).toBe('What can I help you with today?');

    await say('alice', 'Products');
    const second = await transcript('alice');
    expect(second).toHaveLength(3);
    expect(second[2]).toMatch(/tents, packs and trail gear/);

    const runs = await request(server.app).get('/api/runs').set(auth()).expect(200);
    const items = runs.body.items as Array<{ status: string; contactId: string }>;
    expect(items.filter((r) => r.status === 'done')).toHaveLength(1);
  });

  it('should process a redelivered message once', async () => {
    const a = await say('bob', 'hi', { messageId: 'wamid.1' });
    const b = await say('bob', 'hi', { messageId: 'wamid.1' });
    expect(a.accepted).toBe(true);
    expect(b.accepted).toBe(false);
    expect(await transcript('bob')).toHaveLength(2);
  });

  it('should fire a delay from the durable scheduler and continue the run', async () => {
    await publish({
      id: 'delay-test',
      name: 'Delay test',
      triggers: [{ id: 't', type: 'keyword', params: { keywords: ['later'], match: 'exact' } }],
      nodes: [
        { id: 'a', type: 'send_text', typeVersion: 1, position: { x: 0, y: 0 }, params: { text: 'before' } },
        { id: 'wait', type: 'delay', typeVersion: 1, position: { x: 200, y: 0 }, params: { duration: 'PT1S' } },
        { id: 'b', type: 'send_text', typeVersion: 1, position: { x: 400, y: 0 }, params: { text: 'after' } },
      ],
      edges: [
        { id: 'e1', source: 'a', sourceOutput: 'sent', target: 'wait' },
        { id: 'e2', source: 'wait', sourceOutput: 'done', target: 'b' },
      ],
      variables: [],
      settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
    });
    await say('carol', 'later');
    expect(await transcript('carol')).toEqual(['before']);
    const deadline = Date.now() + 10_000;
    let texts: string[] = [];
    while (Date.now() < deadline) {
      texts = await transcript('carol');
      if (texts.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(texts).toEqual(['before', 'after']);
  });

  it('should end a waiting run on a workspace interrupt keyword and start no catch-all flow', async () => {
    await publish({
      id: 'catch-all',
      name: 'Catch-all',
      triggers: [{ id: 'any', type: 'message.received', params: { channels: ['simulator'] } }],
      nodes: [{ id: 'help', type: 'send_text', typeVersion: 1, position: { x: 0, y: 0 }, params: { text: 'How can I help?' } }],
      edges: [],
      variables: [],
      settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
    });
    await say('dave', 'hi');
    const waiting = await request(server.app).get('/api/runs').query({ status: 'waiting' }).set(auth()).expect(200);
    expect((waiting.body.items as unknown[]).length).toBeGreaterThan(0);
    const before = await transcript('dave');
    await say('dave', 'STOP');
    const after = await request(server.app).get('/api/runs').query({ status: 'cancelled' }).set(auth()).expect(200);
    expect((after.body.items as Array<{ contactId: string }>).length).toBe(1);
    expect(await transcript('dave')).toEqual(before);
    // Any other message does reach the catch-all flow.
    await say('erin', 'good morning');
    expect(await transcript('erin')).toEqual(['How can I help?']);
  });

  it('should record simulator sends with the step that made them and carry the run on in the same commit', async () => {
    const sends = 20;
    await publish({
      id: 'many-sends',
      name: 'Many sends',
      triggers: [{ id: 't', type: 'keyword', params: { keywords: ['count'], match: 'exact' } }],
      nodes: Array.from({ length: sends }, (_, i) => ({
        id: `s${i}`,
        type: 'send_text',
        typeVersion: 1,
        position: { x: i * 200, y: 0 },
        params: { text: `line ${i}` },
      })),
      edges: Array.from({ length: sends - 1 }, (_, i) => ({ id: `e${i}`, source: `s${i}`, sourceOutput: 'sent', target: `s${i + 1}` })),
      variables: [],
      settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
    });
    await say('fred', 'count');
    expect(await transcript('fred')).toEqual(Array.from({ length: sends }, (_, i) => `line ${i}`));

    const runs = await request(server.app).get('/api/runs').query({ flowId: 'many-sends' }).set(auth()).expect(200);
    const [run] = runs.body.items as Array<{ id: string; status: string }>;
    expect(run?.status).toBe('done');
    const steps = await server.store.runs.stepLog(run!.id);
    // One step per send plus the start, numbered without gaps, whichever way each send went.
    expect(steps.map((s) => s.stepNo)).toEqual(Array.from({ length: sends + 1 }, (_, i) => i));
    expect(steps.slice(1).every((s) => s.event === 'node.completed')).toBe(true);
    // The first commit records sends by itself up to its cap; the sends after it go through the
    // outbox (the flow must commit now and then), and the sink of both is the same transcript.
    const outboxed = await Promise.all(steps.map((_, seq) => server.store.outbox.get(run!.id, seq + 1)));
    const viaOutbox = outboxed.filter((e) => e !== undefined);
    expect(viaOutbox.length).toBeGreaterThan(0);
    expect(viaOutbox.length).toBeLessThan(sends);
    expect(await server.store.outbox.get(run!.id, 1)).toBeUndefined();
  });
});

describe('metrics', () => {
  it('should expose the runtime backlog and what it did', async () => {
    await server.runtime.idle();
    const res = await request(server.app).get('/metrics').expect(200);
    expect(res.text).toMatch(/^convoflow_journal_pending 0$/m);
    expect(res.text).toMatch(/^convoflow_outbox_pending 0$/m);
    expect(res.text).toMatch(/^convoflow_effects_in_flight\{lane="node_calls"\} 0$/m);
    expect(res.text).toMatch(/^convoflow_effect_slots\{lane="timers"\} 16$/m);
    expect(res.text).toMatch(/^convoflow_effects_total\{type="sendMessage",result="ok"\} [1-9]\d*$/m);
    expect(res.text).toMatch(/^convoflow_runs_ended_total\{status="done"\} [1-9]\d*$/m);
  });
});
