import request from 'supertest';
import type { JsonObject } from '@convoflow/engine';
import { actionNode, builtinNodes, createCatalogue, type NodeResult } from '@convoflow/nodes';
import type { ChannelAdapter, ChannelSendRequest, ChannelSendResult } from '../src/index.js';
import { chainFlow, startApiEnv, type ApiEnv, type Harness } from './api-support.js';
import { waitFor } from './support/wait-for.js';

/**
 * What code plugged into the runtime (custom nodes, channel adapters) may return, and how the
 * runtime keeps going whatever it is. Leases are short: work left to be claimed again would be
 * done again within the test.
 */
const LEASE_MS = 200;
/** How long sends and node calls are waited for. */
const TIMEOUT_MS = 300;

/** What the custom node returns next, by the keyword that started its run, and how often it ran. */
const results = new Map<string, () => unknown>();
const calls = new Map<string, number>();

/** A custom node as a developer would write one: it returns whatever the test says. */
const custom = actionNode<{ case: string }>({
  type: 'custom_lookup',
  typeVersion: 1,
  category: 'integration',
  title: 'Custom lookup',
  description: 'Returns what the test gives it.',
  icon: 'search',
  params: { type: 'object', properties: { case: { type: 'string' } }, required: ['case'], additionalProperties: false },
  outputs: ['found', 'error'],
  failureOutput: 'error',
  execute: async (_ctx, params) => {
    calls.set(params.case, (calls.get(params.case) ?? 0) + 1);
    return (results.get(params.case) ?? (() => ({ output: 'found' })))() as NodeResult;
  },
});

/** A Telegram adapter that answers what the test gives it. */
let telegramAnswer: (request: ChannelSendRequest) => unknown = () => ({ status: 'sent' });
let telegramSends = 0;
const telegram: ChannelAdapter = {
  channel: 'telegram',
  send: async (request) => {
    telegramSends += 1;
    return (await telegramAnswer(request)) as ChannelSendResult;
  },
};

/** Long enough for a lease to lapse several times over. */
const afterLeases = () => new Promise((r) => setTimeout(r, LEASE_MS * 4));

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv({ catalogue: createCatalogue([...builtinNodes, custom]), channels: [telegram], runtime: { leaseMs: LEASE_MS, sendTimeoutMs: TIMEOUT_MS, nodeTimeoutMs: TIMEOUT_MS } });
  h = await env.harness();
});
afterAll(() => env.dispose());

/** Runs the node with `result` as its return value: how the run ended, and what it replied. */
async function runWith(name: string, result: () => unknown): Promise<{ status: string; reply: string }> {
  results.set(name, result);
  await h.publish(
    chainFlow(name, { id: 'k', type: 'keyword', params: { keywords: [name], match: 'exact' } }, [
      ['lookup', 'custom_lookup', { case: name }, 'error'],
      ['say', 'send_text', { text: '{{nodes.lookup.error.code}}: {{nodes.lookup.error.message}}' }],
    ]),
  );
  await request(h.app).post('/api/simulator/messages').set(h.auth()).send({ contact: name, text: name }).expect(202);
  let run: { id: string; status: string } | undefined;
  await waitFor(async () => {
    run = (await h.runs({ flowId: name }))[0];
    return run?.status === 'done' || run?.status === 'failed';
  }, 10_000);
  const transcript = await request(h.app).get(`/api/simulator/messages?contact=${name}`).set(h.auth()).expect(200);
  // The transcript holds what the flow sent.
  const replies = transcript.body.items as Array<{ message: { text?: string } }>;
  return { status: run!.status, reply: replies.map((m) => m.message.text).join(' | ') };
}

describe('what a custom node returns', () => {
  it('should fail the node, by its failure output, when the result cannot be stored as JSON', async () => {
    const circular: JsonObject = { a: 1 };
    (circular as Record<string, unknown>).self = circular;
    const outcome = await runWith('circular', () => ({ output: 'found', data: circular }));
    expect(outcome.status).toBe('done');
    expect(outcome.reply).toMatch(/^INVALID_RESULT: .*not JSON/);
    await afterLeases();
    expect(calls.get('circular')).toBe(1);

    const big = await runWith('bigint', () => ({ output: 'found', data: { n: 10n } }));
    expect(big.reply).toMatch(/^INVALID_RESULT: .*not JSON.*BigInt/);
    expect(env.takeProblems().filter((p) => p.startsWith('error'))).toEqual([]);
  });

  it('should fail the node when the result has no output', async () => {
    expect((await runWith('no-output', () => ({ data: { a: 1 } }))).reply).toMatch(/^INVALID_RESULT: .*"output"/);
    expect((await runWith('not-object', () => 'found')).reply).toMatch(/^INVALID_RESULT: /);
  });

  it('should fail the node when the result is larger than a run may hold, without storing it', async () => {
    const outcome = await runWith('huge', () => ({ output: 'found', data: { blob: 'x'.repeat(3_000_000) } }));
    expect(outcome.reply).toMatch(/^VALUE_TOO_LARGE: .*3,000,0\d\d characters.*2,000,000/);
    const longest = env.store.db.prepare('SELECT MAX(LENGTH(payload)) FROM journal').pluck().get() as number;
    expect(longest).toBeLessThan(10_000);
  });

  it('should keep the first 2,000 characters of the message of an error node code throws', async () => {
    const outcome = await runWith('long-error', () => {
      throw new Error(`remote said: ${'no '.repeat(500_000)}`);
    });
    expect(outcome.reply).toMatch(/^NODE_FAILED: remote said: no no .*… \(1,500,013 characters\)$/);
    expect(outcome.reply.length).toBeLessThan(2_100);
  });

  // Node code may ignore its signal: a call that never settles must not hold its slot for good.
  it('should fail the node when its code does not finish in time, even if it ignores the signal', async () => {
    const outcome = await runWith('stuck', () => new Promise(() => undefined));
    expect(outcome.reply).toBe('NODE_FAILED: the node did not finish within 300 ms');
    await afterLeases();
    expect(calls.get('stuck')).toBe(1);
  });

  it('should keep what JSON keeps of a result: dates as text, undefined fields left out', async () => {
    const outcome = await runWith('dates', () => ({ output: 'found', data: { at: new Date(Date.UTC(2026, 0, 2)), gone: undefined } }));
    expect(outcome.status).toBe('done');
    const [run] = await h.runs({ flowId: 'dates' });
    const stored = await env.store.runs.get(h.ws, run!.id);
    expect((stored?.snapshot as { context: { nodes: Record<string, JsonObject> } }).context.nodes.lookup).toEqual({ at: '2026-01-02T00:00:00.000Z' });
  });
});

describe('what a channel adapter answers', () => {
  beforeAll(() =>
    h.publish(
      chainFlow('notify', { id: 'api', type: 'api', params: {} }, [
        ['say', 'send_text', { text: 'Your order shipped' }, 'failed'],
        ['note', 'set_variable', { assignments: [{ variable: 'why', value: '{{nodes.say.reason}}' }] }],
      ]),
    ),
  );
  beforeEach(() => (telegramSends = 0));

  const notify = async (externalId: string) => {
    const contact = await h.store.contacts.create(h.ws, {}, [{ channel: 'telegram', externalId }], h.clock.now);
    await request(h.app).post('/api/flows/notify/runs').set(h.auth()).send({ contactId: contact.id }).expect(202);
    return contact.id;
  };

  it('should fail the send, once, when what the adapter answered cannot be recorded', async () => {
    telegramAnswer = () => ({ status: 'sent', providerMessageId: 10n });
    await notify('4242');
    await afterLeases();
    const [run] = await h.runs({ flowId: 'notify' });
    expect(run?.status).toBe('done');
    const stored = await env.store.runs.get(h.ws, run!.id);
    expect((stored?.snapshot as { context: { vars: JsonObject } }).context.vars.why).toMatch(
      /^its outcome could not be recorded: .*BigInt/,
    );
    expect(telegramSends).toBe(1);
    expect(env.takeProblems().filter((p) => p.startsWith('error'))).toEqual([]);
  });

  // A provider that never answers would otherwise hold a send slot, its lease renewed, for good.
  it('should stop waiting for a send after sendTimeoutMs, abort it, and send again with the same key', async () => {
    const keys: string[] = [];
    let aborted = false;
    telegramAnswer = (req) => {
      keys.push(req.idempotencyKey);
      if (keys.length > 1) return { status: 'sent', providerMessageId: 'tg-1' };
      req.signal.addEventListener('abort', () => (aborted = true));
      return new Promise(() => undefined); // never answers
    };
    const contactId = await notify('5151');
    await waitFor(async () => (await h.runs({ flowId: 'notify', contactId }))[0]?.status === 'done', 10_000);
    expect(aborted).toBe(true);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const [run] = await h.runs({ flowId: 'notify', contactId });
    const stored = await env.store.runs.get(h.ws, run!.id);
    expect((stored?.snapshot as { context: { nodes: Record<string, JsonObject> } }).context.nodes.say).toEqual({ providerMessageId: 'tg-1' });
  });

  it('should fail the send, naming what the adapter answered, when that is not a send status', async () => {
    for (const [answer, said] of [
      [{ status: 'delivered' }, 'status "delivered"'],
      [undefined, 'undefined'],
    ] as const) {
      telegramAnswer = () => answer;
      const contactId = await notify(`status-${said}`);
      await waitFor(async () => (await h.runs({ flowId: 'notify', contactId }))[0]?.status === 'done', 10_000);
      const [run] = await h.runs({ flowId: 'notify', contactId });
      const stored = await env.store.runs.get(h.ws, run!.id);
      expect((stored?.snapshot as { context: { vars: JsonObject } }).context.vars.why).toBe(
        `the telegram channel's adapter answered ${said}, not a status of sent, window_closed or failed`,
      );
    }
  });
});
