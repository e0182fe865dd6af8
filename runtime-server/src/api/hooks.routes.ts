import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FlowTrigger, JsonObject } from '@convoflow/engine';
import { HttpProblem } from '../http/problem.js';
import { definePublicRoute, headerOf, type RouteSpec } from '../http/route.js';
import type { ApiContext } from './context.js';

const PATH = '/api/hooks/:workspaceId/:flowId/:triggerId';

/** Equal-length digests compared in constant time, so neither length nor content leaks. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function sameSignature(header: string, secret: string, raw: Buffer): boolean {
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m?.[1]) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(Buffer.from(m[1], 'hex'), expected);
}

/**
 * The webhook trigger: a third party starts a run of a published flow. The caller proves it knows
 * the trigger's `params.secret`, either by sending it (`X-Convoflow-Secret` header or `?secret=`)
 * or by signing the raw body with it (`X-Convoflow-Signature: sha256=<hex HMAC-SHA256>`).
 */
export function hookRoutes(ctx: ApiContext): RouteSpec[] {
  const { store, runtime } = ctx;
  const findTrigger = async (params: Record<string, string>): Promise<FlowTrigger> => {
    const { workspaceId = '', flowId = '', triggerId = '' } = params;
    const flow = await store.flows.get(workspaceId, flowId);
    const version = flow?.activeVersion === undefined ? undefined : await store.flows.getVersion(workspaceId, flowId, flow.activeVersion);
    const trigger = version?.definition.triggers.find((t) => t.id === triggerId && t.type === 'webhook');
    // One answer for every miss, so the endpoint does not reveal which workspaces or flows exist.
    if (!trigger) throw new HttpProblem(404, 'not-found', 'No published webhook trigger at this address.');
    return trigger;
  };

  return [
    definePublicRoute<JsonObject | undefined>({
      method: 'post',
      path: PATH,
      operationId: 'receiveWebhook',
      summary: 'Trigger a flow by webhook',
      description: 'Authenticated by the trigger\'s secret, sent as X-Convoflow-Secret (or ?secret=) or as an HMAC-SHA256 signature of the raw body in X-Convoflow-Signature. The body becomes `trigger.body` in the run.',
      tag: 'webhooks',
      access: 'webhook-secret',
      headers: {
        'X-Convoflow-Secret': { schema: { type: 'string' }, description: 'The trigger\'s secret' },
        'X-Convoflow-Signature': { schema: { type: 'string', pattern: '^sha256=[0-9a-fA-F]{64}$' }, description: 'sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>' },
        'Idempotency-Key': { schema: { type: 'string', maxLength: 200 }, description: 'Repeating a key starts nothing new' },
      },
      query: {
        secret: { schema: { type: 'string' }, description: 'The trigger\'s secret, for callers that cannot set headers' },
        contactId: { schema: { type: 'string', minLength: 1 }, description: 'The contact the run is for' },
      },
      body: { schema: 'WebhookBody', required: false },
      responses: {
        202: { description: 'Journaled; the run starts shortly', schema: 'Accepted' },
        401: { description: 'Secret or signature missing or wrong', schema: 'Problem' },
        403: { description: 'The trigger has no secret configured, so it accepts no calls', schema: 'Problem' },
        404: { description: 'No published webhook trigger at this address', schema: 'Problem' },
      },
      guard: async (req, raw) => {
        const trigger = await findTrigger(req.params as Record<string, string>);
        const secret = trigger.params.secret;
        if (typeof secret !== 'string' || secret === '') {
          throw new HttpProblem(403, 'forbidden', 'This webhook trigger has no secret; set one in the flow before calling it.');
        }
        const signature = req.get('x-convoflow-signature');
        const given = req.get('x-convoflow-secret') ?? (typeof req.query.secret === 'string' ? req.query.secret : undefined);
        const ok = signature !== undefined ? sameSignature(signature, secret, raw ?? Buffer.alloc(0)) : given !== undefined && sameSecret(given, secret);
        if (!ok) throw new HttpProblem(401, 'unauthenticated', 'The webhook secret or signature is missing or wrong.');
      },
      handle: async ({ req, params, query, body }) => {
        const { workspaceId = '', flowId = '', triggerId = '' } = params;
        const contactId = typeof query.contactId === 'string' ? query.contactId : undefined;
        if (contactId !== undefined && !(await store.contacts.get(workspaceId, contactId))) {
          throw HttpProblem.validation([{ field: 'query.contactId', message: `no contact ${contactId} in this workspace` }]);
        }
        const idempotencyKey = headerOf(req, 'idempotency-key');
        const accepted = await runtime.receiveWebhook(workspaceId, flowId, triggerId, {
          body: body ?? {},
          ...(contactId ? { contactId } : {}),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        });
        return { status: 202, body: accepted };
      },
    }),
  ];
}
