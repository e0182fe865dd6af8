import type { InboundMessage } from '@convoflow/engine';
import type { AuthContext } from '../http/authenticate.js';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type RouteCall, type RouteSpec } from '../http/route.js';
import { newId } from '../runtime/ids.js';
import type { RuntimePort, SimulatorOutbound } from '../runtime/runtime-port.js';
import type { ApiContext } from './context.js';

const tag = 'simulator';

/** The simulator channel: the designer's test chat talks to published flows through it. */
export function simulatorRoutes(ctx: ApiContext): RouteSpec[] {
  const { runtime } = ctx;
  return [
    defineRoute<{ contact: string; text?: string; replyTo?: string; messageId?: string }>({
      method: 'post',
      path: '/api/simulator/messages',
      operationId: 'sendSimulatorMessage',
      summary: 'Send a message as a simulator contact',
      description:
        'Answers 202 once the message is journaled. With `wait`, it then holds like the transcript\'s long poll and ' +
        'answers 200 with the replies newer than `after` as well: a message and its reply in one round trip.',
      tag,
      permission: 'simulator:use',
      fastLane: true,
      body: { schema: 'SimulatorMessageRequest' },
      query: {
        wait: { schema: { type: 'integer', minimum: 0 }, description: 'After journaling, long-poll for a reply for up to this many ms' },
        after: { schema: { type: 'integer', minimum: 0 }, description: 'With `wait`: only replies with a greater seq (the `after` of your last answer)' },
      },
      responses: {
        200: { description: 'Journaled, with the replies after `after` (`wait` was given)', schema: 'SimulatorExchange' },
        202: { description: 'Journaled (accepted is false for a repeated messageId)', schema: 'Accepted' },
      },
      handle: async (call) => {
        const { auth, body, query } = call;
        const message: InboundMessage = {
          // Time-ordered: its dedupe key lands at the end of the journal's unique index, not on a
          // random page of it (one WAL page less per message).
          id: body.messageId ?? newId('sim'),
          channel: 'simulator',
          from: body.contact,
          ...(body.text !== undefined ? { text: body.text } : {}),
          ...(body.replyTo !== undefined ? { replyTo: body.replyTo } : {}),
          sentAt: ctx.now(),
        };
        if (query.wait === undefined) {
          if (query.after !== undefined) throw HttpProblem.validation([{ field: 'query.after', message: 'is read only together with wait' }]);
          return { status: 202, body: await runtime.receiveMessage(auth.workspaceId, message) };
        }
        const after = (query.after as number | undefined) ?? 0;
        const waitMs = query.wait as number;
        // Subscribed before the message is journaled: a reply could be stored before it returns.
        const waiter = waitMs > 0 ? replyWaiter(runtime, auth.workspaceId, body.contact, after) : undefined;
        try {
          const accepted = await runtime.receiveMessage(auth.workspaceId, message);
          const transcript = await readTranscript(ctx, call, body.contact, after, waitMs, waiter);
          return { status: 200, body: { ...accepted, ...transcript } };
        } finally {
          waiter?.close();
        }
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/simulator/messages',
      operationId: 'getSimulatorTranscript',
      summary: 'Read what flows sent to a simulator contact',
      description: 'With `wait`, the call holds until a message newer than `after` exists or the wait (bounded by the server) ends.',
      tag,
      permission: 'simulator:use',
      fastLane: true,
      query: {
        contact: { schema: { type: 'string', minLength: 1, maxLength: 256 }, description: 'The contact\'s simulator external id', required: true },
        after: { schema: { type: 'integer', minimum: 0 }, description: 'Only messages with a greater seq' },
        wait: { schema: { type: 'integer', minimum: 0 }, description: 'Long-poll for up to this many ms' },
      },
      responses: { 200: { description: 'Messages after `after`, oldest first', schema: 'SimulatorTranscript' } },
      handle: async (call) => {
        const { auth, query } = call;
        const contact = query.contact as string;
        const after = (query.after as number | undefined) ?? 0;
        const waitMs = (query.wait as number | undefined) ?? 0;
        // Subscribed before the first read, so a reply stored in between is not missed.
        const waiter = waitMs > 0 ? replyWaiter(runtime, auth.workspaceId, contact, after) : undefined;
        try {
          return { status: 200, body: await readTranscript(ctx, call, contact, after, waitMs, waiter) };
        } finally {
          waiter?.close();
        }
      },
    }),
  ];
}

/**
 * The contact's replies after `after`; when there are none and `waitMs` > 0 (bounded by the server),
 * holds until one is announced, the wait ends, the client goes away or the server shuts down.
 */
async function readTranscript(
  ctx: ApiContext,
  call: RouteCall<unknown, AuthContext>,
  contact: string,
  after: number,
  waitMs: number,
  waiter: ReplyWaiter | undefined,
): Promise<{ items: SimulatorOutbound[]; after: number }> {
  const { runtime } = ctx;
  const workspaceId = call.auth.workspaceId;
  // A real monotonic clock, not ctx.now: that one stamps records and may be frozen in tests.
  const deadline = performance.now() + Math.min(waitMs, ctx.config.simulatorMaxWaitMs);
  let items = await runtime.simulatorTranscript(workspaceId, contact, after);
  if (!waiter || items.length > 0) return { items, after: items.at(-1)?.seq ?? after };
  // The wait ends early when the client goes away or the server shuts down (it then answers with
  // what it has). `call.signal` is read only here: building it costs a listener per request.
  const stops = ctx.shutdown ? [call.signal, ctx.shutdown] : [call.signal];
  const stopped = () => stops.some((s) => s.aborted);
  while (items.length === 0 && performance.now() < deadline && !stopped()) {
    // Replies are announced (see onMessageStored); this re-read is the safety net.
    const pollMs = ctx.config.simulatorPollMs * FALLBACK_POLL_FACTOR;
    await waiter.wait(Math.min(pollMs, Math.max(1, deadline - performance.now())), stops);
    if (stopped()) break;
    items = await runtime.simulatorTranscript(workspaceId, contact, after);
  }
  return { items, after: items.at(-1)?.seq ?? after };
}

/**
 * How much slower than `simulatorPollMs` a waiting long poll re-reads the store by itself: only a
 * reply no announcement reached (on MongoDB, one that committed after a greater seq) waits for it.
 */
const FALLBACK_POLL_FACTOR = 10;

interface ReplyWaiter {
  /** Resolves when a reply was announced (since the last wait), after `ms`, or when any signal aborts. */
  wait(ms: number, signals: AbortSignal[]): Promise<void>;
  close(): void;
}

/** Wakes a long poll when this process stores a reply for the simulator contact it waits on. */
function replyWaiter(runtime: RuntimePort, workspaceId: string, contact: string, after: number): ReplyWaiter {
  let signalled = false;
  let wake: (() => void) | undefined;
  const off = runtime.onMessageStored((e) => {
    if (e.workspaceId !== workspaceId || e.channel !== 'simulator' || e.externalId !== contact) return;
    if (e.seq !== undefined && e.seq <= after) return;
    signalled = true;
    wake?.();
  });
  return {
    wait(ms: number, signals: AbortSignal[]): Promise<void> {
      if (signalled) {
        signalled = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          for (const signal of signals) signal.removeEventListener('abort', done);
          wake = undefined;
          signalled = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        for (const signal of signals) signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
    },
    close: off,
  };
}
