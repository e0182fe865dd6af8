import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import type { JsonSchema } from '@convoflow/engine';
import type { Permission } from '../auth/roles.js';
import type { AuthContext } from './authenticate.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One documented response of a route. */
export interface ResponseSpec {
  description: string;
  /** Name of a component schema (`#/components/schemas/<schema>`). */
  schema?: string;
  /** Defaults to `application/json` when a schema is given. */
  contentType?: string;
}

/** A query-string or header parameter. */
export interface ParameterSpec {
  schema: JsonSchema;
  description: string;
  required?: boolean;
}

/** What a handler answers; the route layer serialises it (JSON unless `contentType` says otherwise). */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Set for non-JSON bodies (e.g. the Prometheus text format); `body` is then sent as a string. */
  contentType?: string;
}

/** What a handler receives: the request with its body and query already validated. */
export interface RouteCall<B, A extends AuthContext | undefined> {
  /** The raw request: a handler reads headers from it (`headerOf`), nothing framework-specific. */
  req: IncomingMessage;
  /** The caller; every read and write is scoped to `auth.workspaceId`. */
  auth: A;
  body: B;
  query: Record<string, unknown>;
  params: Record<string, string>;
  /** Resolves when the client goes away (used to stop long polls). */
  signal: AbortSignal;
}

interface RouteShape {
  method: HttpMethod;
  /** Express path syntax, e.g. `/api/flows/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Request body: a component schema name; validated before the handler runs. */
  body?: {
    schema: string;
    required?: boolean;
    description?: string;
    /**
     * A flow document: read up to the app's `flowBodyLimit` (default 2 MB) instead of its
     * `bodyLimit` (256 KB). A flow takes ~450 bytes a node, so 256 KB stopped at ~580 nodes.
     */
    document?: boolean;
  };
  query?: Record<string, ParameterSpec>;
  headers?: Record<string, ParameterSpec>;
  /** Path parameter schemas; parameters not named here are strings. */
  pathParams?: Record<string, ParameterSpec>;
  responses: Record<number, ResponseSpec>;
  /**
   * Served by the fast lane (src/http/fast-lane.ts) before Express sees the request: for the
   * per-message hot paths, where Express's own per-request work cost more than the route does.
   * Only for a static path without a guard.
   */
  fastLane?: boolean;
}

/** How a route is protected. */
export type RouteAccess =
  | { kind: 'bearer'; permission: Permission }
  | { kind: 'public' }
  /** Authenticated by the flow trigger's own secret, checked in the handler. */
  | { kind: 'webhook-secret' };

/** A route of the API: its contract (which is also its OpenAPI operation) and its handler. */
export interface RouteSpec extends RouteShape {
  access: RouteAccess;
  /** Runs after authentication and before body validation; throws an HttpProblem to refuse. */
  guard?(req: Request, rawBody: Buffer | undefined): Promise<void>;
  handle(call: RouteCall<unknown, AuthContext | undefined>): Promise<Reply>;
}

/**
 * Declares a route that needs a bearer credential holding `permission`.
 *
 * @example
 * defineRoute<{ name: string }>({
 *   method: 'post', path: '/api/things', operationId: 'createThing', summary: 'Create a thing', tag: 'things',
 *   permission: 'flows:write', body: { schema: 'CreateThing' }, responses: { 201: { description: 'Created', schema: 'Thing' } },
 *   handle: async ({ auth, body }) => ({ status: 201, body: await things.create(auth.workspaceId, body.name) }),
 * });
 */
export function defineRoute<B = undefined>(
  spec: RouteShape & { permission: Permission; handle(call: RouteCall<B, AuthContext>): Promise<Reply> },
): RouteSpec {
  const { permission, handle, ...shape } = spec;
  return {
    ...shape,
    access: { kind: 'bearer', permission },
    handle: (call) => handle(call as RouteCall<B, AuthContext>),
  };
}

/** Declares a route without bearer authentication (health, metrics, OpenAPI, secret-checked webhooks). */
export function definePublicRoute<B = undefined>(
  spec: RouteShape & {
    access?: 'public' | 'webhook-secret';
    /** Runs before the body is validated, e.g. to check a webhook secret first. */
    guard?: RouteSpec['guard'];
    handle(call: RouteCall<B, undefined>): Promise<Reply>;
  },
): RouteSpec {
  const { access, handle, ...shape } = spec;
  return {
    ...shape,
    access: { kind: access ?? 'public' },
    handle: (call) => handle(call as RouteCall<B, undefined>),
  };
}

/** `/api/flows/:id` as OpenAPI writes it: `/api/flows/{id}`. Pure. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The names of a path's parameters, in order. Pure. */
export const pathParamNames = (path: string): string[] => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);

/** A request header as one string (Node joins a repeated one with ", "), or undefined. Pure. */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
