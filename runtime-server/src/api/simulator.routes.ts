import type { InboundMessage } from '@convoflow/engine';
import { defineRoute, type RouteSpec } from '../http/route.js';
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
      tag,
      permission: 'simulator:use',
      fastLane: true,
      body: { schema: 'SimulatorMessageRequest' },
      responses: { 202: { description: 'Journaled (accepted is false for a repeated messageId)', schema: 'Accepted' } },
      handle: async ({ auth, body }) => {
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
        return { status: 202, body: await runtime.receiveMessage(auth.workspaceId, message) };
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
      // `call.signal` is read only when the call waits: building it costs a listener per request.
      handle: async (call) => {
        const { auth, query } = call;
        const contact = query.contact as string;
        const after = query.after as number | undefined;
        const waitMs = Math.min((query.wait as number | undefined) ?? 0, ctx.config.simulatorMaxWaitMs);
        // A real monotonic clock, not ctx.now: that one stamps records and may be frozen in tests.
        const deadline = performance.now() + waitMs;
        // Subscribed before the first read, so a reply stored in between is not missed.
        const waiter = waitMs > 0 ? replyWaiter(runtime, auth.workspaceId, contact, after ?? 0) : undefined;
        try {
          let items: SimulatorOutbound[] = await runtime.simulatorTranscript(auth.workspaceId, contact, after);
          while (waiter && items.length === 0 && performance.now() < deadline && !call.signal.aborted) {
            // Replies are announced (see onMessageStored); this re-read is the safety net.
            const pollMs = ctx.config.simulatorPollMs * FALLBACK_POLL_FACTOR;
            await waiter.wait(Math.min(pollMs, Math.max(1, deadline - performance.now())), call.signal);
            if (call.signal.aborted) break; // the client went away
            items = await runtime.simulatorTranscript(auth.workspaceId, contact, after);
          }
          const last = items.at(-1)?.seq ?? after ?? 0;
          return { status: 200, body: { items, after: last } };
        } finally {
          waiter?.close();
        }
      },
    }),
  ];
}

/**
 * How much slower than `simulatorPollMs` a waiting long poll re-reads the store by itself: only a
 * reply no announcement reached (on MongoDB, one that committed after a greater seq) waits for it.
 */
const FALLBACK_POLL_FACTOR = 10;

/** Wakes a long poll when this process stores a reply for the simulator contact it waits on. */
function replyWaiter(runtime: RuntimePort, workspaceId: string, contact: string, after: number) {
  let signalled = false;
  let wake: (() => void) | undefined;
  const off = runtime.onMessageStored((e) => {
    if (e.workspaceId !== workspaceId || e.channel !== 'simulator' || e.externalId !== contact) return;
    if (e.seq !== undefined && e.seq <= after) return;
    signalled = true;
    wake?.();
  });
  return {
    /** Resolves when a reply was announced (since the last wait), after `ms`, or on abort. */
    wait(ms: number, signal: AbortSignal): Promise<void> {
      if (signalled) {
        signalled = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = undefined;
          signalled = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        wake = done;
      });
    },
    close: off,
  };
}
