import { signEmbedToken } from '../auth/embed-token.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { HttpProblem } from '../http/problem.js';
import type { Role } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';

/** Mints short-lived tokens with which an embedded designer calls the API on a user's behalf. */
export function embedTokenRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    defineRoute<{ role?: Role; ttlSeconds?: number } | undefined>({
      method: 'post',
      path: '/api/embed-tokens',
      operationId: 'createEmbedToken',
      summary: 'Mint a short-lived token for the embedded designer',
      description: 'HMAC-SHA256 signed; accepted as a Bearer credential until it expires. Embed tokens cannot manage credentials.',
      tag: 'auth',
      permission: 'embedTokens:create',
      body: { schema: 'CreateEmbedTokenRequest', required: false },
      responses: { 201: { description: 'The token', schema: 'EmbedToken' } },
      handle: async ({ auth, body }) => {
        const { embedTokenDefaultTtlSeconds, embedTokenMaxTtlSeconds, embedTokenSecret } = ctx.config;
        const ttl = body?.ttlSeconds ?? embedTokenDefaultTtlSeconds;
        if (ttl > embedTokenMaxTtlSeconds) {
          throw HttpProblem.validation([{ field: '/ttlSeconds', message: `must be at most ${embedTokenMaxTtlSeconds}` }]);
        }
        const role = body?.role ?? 'staff';
        const iat = Math.floor(ctx.now() / 1000);
        const token = signEmbedToken({ workspaceId: auth.workspaceId, role, iat, exp: iat + ttl, sub: auth.keyId }, embedTokenSecret);
        return {
          status: 201,
          body: { token, workspaceId: auth.workspaceId, role, expiresAt: (iat + ttl) * 1000 },
          headers: { 'Cache-Control': 'no-store' },
        };
      },
    }),
  ];
}
