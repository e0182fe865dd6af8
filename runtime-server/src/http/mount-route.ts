import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Application, NextFunction, Request, Response } from 'express';
import type { JsonSchema } from '@convoflow/engine';
import type { ApiKeyRecord, StoragePort } from '../storage/storage-port.js';
import type { ExpiringCache } from '../support/expiring-cache.js';
import { authenticate, authorize, type AuthContext } from './authenticate.js';
import { HttpProblem, type FieldError } from './problem.js';
import { setRequestRoute, setRequestWorkspace } from './request-context.js';
import type { Reply, RouteCall, RouteSpec } from './route.js';
import type { RequestValidator } from './validator.js';
import { rawBodyOf } from './json-body.js';
import { MAX_JSON_DEPTH, tooDeepAt } from './json-depth.js';

/** The media types read as JSON bodies (as `jsonBody` parses them). */
const JSON_TYPES = ['application/json', 'application/*+json'];

/** What mounting needs from the app. */
export interface MountDeps {
  store: StoragePort;
  /** API keys by hash, shared with the routes that revoke them. */
  apiKeys: ExpiringCache<string, ApiKeyRecord>;
  validator: RequestValidator;
  embedTokenSecret: string | Buffer;
  now: () => number;
}

/**
 * Registers one route on the app: authentication and role check, then body and query validation,
 * then the handler, whose Reply is serialised here. Every failure is thrown as an HttpProblem and
 * rendered by the error middleware.
 */
export function mountRoute(app: Application, route: RouteSpec, deps: MountDeps): void {
  const querySchema = route.query ? objectSchema(route.query) : undefined;
  app[route.method](route.path, async (req: Request, res: Response, next: NextFunction) => {
    setRequestRoute(res, route.path);
    try {
      const call = await prepareCall(route, querySchema, req, res, deps, {
        body: { value: req.body as unknown, length: contentLength(req), json: Boolean(req.is(JSON_TYPES)) },
        query: req.query,
        params: { ...req.params } as Record<string, string>,
        ...(route.guard ? { guard: () => route.guard!(req, rawBodyOf(req)) } : {}),
      });
      send(res, await route.handle(call));
    } catch (err) {
      next(err);
    }
  });
}

/** A request as the transport read it, before validation. */
export interface RequestInput {
  /** `value` is undefined when no JSON body was read; `length` is infinite for a chunked body. */
  body: { value: unknown; length: number; json: boolean };
  /** Parsed query string: a repeated key is an array. */
  query: Record<string, unknown>;
  params: Record<string, string>;
  guard?: () => Promise<void>;
}

/**
 * Authentication and role check, the route's guard, then body and query validation: the call its
 * handler gets. Shared by Express (`mountRoute`) and the fast lane; throws HttpProblem.
 */
export async function prepareCall(
  route: RouteSpec,
  querySchema: JsonSchema | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  deps: MountDeps,
  input: RequestInput,
): Promise<RouteCall<unknown, AuthContext | undefined>> {
  let auth: AuthContext | undefined;
  if (route.access.kind === 'bearer') {
    auth = await authenticate(req, deps);
    setRequestWorkspace(res, auth.workspaceId);
    authorize(auth, route.access.permission);
  }
  if (input.guard) await input.guard();
  const body = route.body ? readBody(input.body, route.body, deps.validator) : undefined;
  let query: Record<string, unknown> = {};
  if (querySchema) {
    const checked = deps.validator.query(querySchema, singleValued(input.query));
    if (checked.errors.length > 0) throw HttpProblem.validation(checked.errors);
    query = checked.value;
  }
  let signal: AbortSignal | undefined;
  return {
    req,
    auth,
    body,
    query,
    params: input.params,
    // Built when a handler first reads it (only long polls do): a controller and a 'close'
    // listener per request showed in profiles.
    get signal() {
      return (signal ??= closeSignal(res));
    },
  };
}

/**
 * Aborts when the client goes away before the response is finished. Only then: 'close' also
 * follows every normal finish, and an abort builds a DOMException with a stack trace.
 */
function closeSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.closed && !res.writableFinished) controller.abort();
  else {
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
  }
  return controller.signal;
}

function readBody(given: RequestInput['body'], spec: NonNullable<RouteSpec['body']>, validator: RequestValidator): unknown {
  const hasBody = given.value !== undefined;
  if (!hasBody && given.length > 0 && !given.json) {
    throw new HttpProblem(415, 'unsupported-media-type', 'Send the body as JSON (Content-Type: application/json).');
  }
  if (!hasBody) {
    if (spec.required === false) return undefined;
    throw HttpProblem.validation([{ field: '/', message: 'a JSON body is required' }]);
  }
  const deep = tooDeepAt(given.value);
  if (deep !== undefined) throw HttpProblem.validation([{ field: deep, message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]);
  const errors = validator.body(spec.schema, given.value);
  if (errors.length > 0) throw HttpProblem.validation(errors);
  return given.value;
}

/** The declared body length: infinite for a chunked body, 0 for none. */
export function contentLength(req: IncomingMessage): number {
  if (req.headers['transfer-encoding']) return Number.POSITIVE_INFINITY;
  return Number(req.headers['content-length'] ?? 0) || 0;
}

/** A parsed query string yields arrays for repeated keys; every API parameter is single. */
function singleValued(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const repeated: FieldError[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) repeated.push({ field: `query.${key}`, message: 'must be given once' });
    else out[key] = value;
  }
  if (repeated.length > 0) throw HttpProblem.validation(repeated);
  return out;
}

/** The JSON Schema of a route's query parameters. Pure. */
export function objectSchema(params: NonNullable<RouteSpec['query']>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, param] of Object.entries(params)) {
    properties[name] = param.schema;
    if (param.required) required.push(name);
  }
  return { type: 'object', properties, required };
}

function send(res: Response, reply: Reply): void {
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status);
  if (reply.body === undefined || reply.status === 204) {
    res.end();
  } else if (reply.contentType) {
    res.type(reply.contentType).send(String(reply.body));
  } else {
    res.json(reply.body);
  }
}
