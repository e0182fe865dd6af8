import type { JsonObject } from '@convoflow/engine';
import { definePublicRoute, type RouteSpec } from '../http/route.js';
import type { ApiContext } from './context.js';

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. No credentials needed. */
export function systemRoutes(ctx: ApiContext, openApiDocument: () => JsonObject): RouteSpec[] {
  const tag = 'system';
  return [
    definePublicRoute({
      method: 'get',
      path: '/healthz',
      operationId: 'liveness',
      summary: 'Liveness: the process answers',
      tag,
      responses: { 200: { description: 'Alive', schema: 'Health' } },
      handle: async () => ({ status: 200, body: { status: 'ok' } }),
    }),
    definePublicRoute({
      method: 'get',
      path: '/readyz',
      operationId: 'readiness',
      summary: 'Readiness: the store answers and the server is not shutting down',
      tag,
      responses: {
        200: { description: 'Ready', schema: 'Health' },
        503: { description: 'The store does not answer, or the server is shutting down', schema: 'Health' },
      },
      handle: async () => {
        // A load balancer still probing over a kept-alive connection learns to send no more.
        if (ctx.shutdown?.aborted) {
          return { status: 503, body: { status: 'shutting_down', store: ctx.store.kind }, headers: { 'Cache-Control': 'no-store' } };
        }
        try {
          await ctx.store.workspaces.get('readyz-probe');
          return { status: 200, body: { status: 'ok', store: ctx.store.kind }, headers: { 'Cache-Control': 'no-store' } };
        } catch (err) {
          ctx.logger.warn({ err }, 'readiness probe failed');
          return { status: 503, body: { status: 'unavailable', store: ctx.store.kind }, headers: { 'Cache-Control': 'no-store' } };
        }
      },
    }),
    definePublicRoute({
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics (text exposition format)',
      tag,
      responses: { 200: { description: 'Metrics', contentType: 'text/plain; version=0.0.4' } },
      handle: async () => ({
        status: 200,
        body: await ctx.metrics.registry.metrics(),
        contentType: ctx.metrics.registry.contentType,
      }),
    }),
    definePublicRoute({
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This API\'s OpenAPI 3.1 document',
      tag,
      responses: { 200: { description: 'The document', contentType: 'application/json' } },
      handle: async () => ({ status: 200, body: openApiDocument() }),
    }),
  ];
}
