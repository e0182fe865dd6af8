import { createApiKey } from '../auth/api-key.js';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { Role } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';
import { apiKeyView } from './views.js';

const tag = 'api-keys';

/** Routes of API keys (admins only). The secret is returned once, at creation. */
export function apiKeyRoutes(ctx: ApiContext): RouteSpec[] {
  const { store } = ctx;
  return [
    defineRoute<{ name: string; role: Role }>({
      method: 'post',
      path: '/api/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key (the secret is shown once)',
      tag,
      permission: 'apiKeys:manage',
      body: { schema: 'CreateApiKeyRequest' },
      responses: { 201: { description: 'Created; keep `secret`, it is not stored', schema: 'ApiKeyCreated' } },
      handle: async ({ auth, body }) => {
        const { record, secret } = await createApiKey(store, { workspaceId: auth.workspaceId, name: body.name, role: body.role, at: ctx.now() });
        return { status: 201, body: { apiKey: apiKeyView(record), secret }, headers: { 'Cache-Control': 'no-store' } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/api-keys',
      operationId: 'listApiKeys',
      summary: 'List API keys (never their secrets)',
      tag,
      permission: 'apiKeys:manage',
      responses: { 200: { description: 'Keys, revoked ones included', schema: 'ApiKeyList' } },
      handle: async ({ auth }) => ({ status: 200, body: { items: (await store.apiKeys.list(auth.workspaceId)).map(apiKeyView) } }),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/api-keys/:id',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      tag,
      permission: 'apiKeys:manage',
      responses: {
        204: { description: 'Revoked' },
        409: { description: 'The workspace\'s last active admin key: create another admin key first', schema: 'Problem' },
      },
      handle: async ({ auth, params }) => {
        const outcome = params.id === undefined ? 'not_found' : await store.apiKeys.revoke(auth.workspaceId, params.id, ctx.now());
        ctx.apiKeys.invalidate();
        if (outcome === 'not_found') throw HttpProblem.notFound('active API key', String(params.id));
        if (outcome === 'last_admin') {
          throw new HttpProblem(409, 'last-admin-key', 'This is the workspace\'s last active admin key: revoking it would leave nobody able to manage keys or publish. Create another admin key first.', {
            errors: [{ field: 'path.id', message: 'is the last active admin key of the workspace' }],
          });
        }
        return { status: 204 };
      },
    }),
  ];
}
