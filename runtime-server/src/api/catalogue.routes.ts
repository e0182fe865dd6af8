import { defineRoute, type RouteSpec } from '../http/route.js';
import type { ApiContext } from './context.js';

/** The node catalogue the designer draws from: every manifest of every type and version. */
export function catalogueRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/catalogue',
      operationId: 'getCatalogue',
      summary: 'List the manifests of every node type and version',
      tag: 'catalogue',
      permission: 'catalogue:read',
      responses: { 200: { description: 'Manifests, oldest version first per type', schema: 'Catalogue' } },
      handle: async () => ({
        status: 200,
        body: { items: ctx.catalogue.list().map((d) => d.manifest) },
        headers: { 'Cache-Control': 'private, max-age=60' },
      }),
    }),
  ];
}
