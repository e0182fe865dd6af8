import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InboundMessage } from '@convoflow/engine';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { SimulatorOutbound } from '../runtime/runtime-port.js';
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
      body: { schema: 'SimulatorMessageRequest' },
      responses: { 202: { description: 'Journaled (accepted is false for a repeated messageId)', schema: 'Accepted' } },
      handle: async ({ auth, body }) => {
        const message: InboundMessage = {
          id: body.messageId ?? randomUUID(),
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
      query: {
        contact: { schema: { type: 'string', minLength: 1, maxLength: 256 }, description: 'The contact\'s simulator external id', required: true },
        after: { schema: { type: 'integer', minimum: 0 }, description: 'Only messages with a greater seq' },
        wait: { schema: { type: 'integer', minimum: 0 }, description: 'Long-poll for up to this many ms' },
      },
      responses: { 200: { description: 'Messages after `after`, oldest first', schema: 'SimulatorTranscript' } },
      handle: async ({ auth, query, signal }) => {
        const contact = query.contact as string;
        const after = query.after as number | undefined;
        const waitMs = Math.min((query.wait as number | undefined) ?? 0, ctx.config.simulatorMaxWaitMs);
        // A real monotonic clock, not ctx.now: that one stamps records and may be frozen in tests.
        const deadline = performance.now() + waitMs;
        let items: SimulatorOutbound[] = await runtime.simulatorTranscript(auth.workspaceId, contact, after);
        while (items.length === 0 && performance.now() < deadline && !signal.aborted) {
          try {
            await sleep(Math.min(ctx.config.simulatorPollMs, Math.max(1, deadline - performance.now())), undefined, { signal });
          } catch {
            break; // the client went away
          }
          items = await runtime.simulatorTranscript(auth.workspaceId, contact, after);
        }
        const last = items.at(-1)?.seq ?? after ?? 0;
        return { status: 200, body: { items, after: last } };
      },
    }),
  ];
}
