import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import bytes from 'bytes';
import type { JsonSchema } from '@convoflow/engine';
import type { Logger } from '../observability/logger.js';
import { logServerProblem, problemHeaders, toProblem, writeProblem } from './error-handler.js';
import { contentLength, objectSchema, prepareCall, type MountDeps } from './mount-route.js';
import { requestIdOf, setRequestRoute, trackRequest, type RequestContextDeps } from './request-context.js';
import type { Reply, RouteSpec } from './route.js';

export interface FastLaneDeps extends MountDeps, RequestContextDeps {
  logger: Logger;
  /** The JSON body limit, as `jsonBody` takes it ('256kb' or bytes). */
  bodyLimit: string | number;
}

/** Serves a request when it is for a fast-lane route; false hands it on to Express. */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serves the routes marked `fastLane` on Node's request and response, before Express sees them.
 *
 * Express's own work per request (prototype swaps, router walk, body-parser) measured ~80 us here,
 * more than the simulator routes' own work; a conversation's messages take these routes. The lane
 * runs the same steps in the same order as the Express path, through the same code: request id,
 * metrics and log line (`trackRequest`), authentication, role, body and query validation
 * (`prepareCall`), problem documents (`toProblem`). What it reads itself is the JSON body, the
 * way `jsonBody` does: same media types, limit, empty-body and error rules. A request it would
 * need more for (a compressed body, a method or path it does not serve) goes to Express.
 */
export function createFastLane(routes: readonly RouteSpec[], deps: FastLaneDeps): FastLane {
  const limit = typeof deps.bodyLimit === 'number' ? deps.bodyLimit : bytes.parse(deps.bodyLimit);
  if (limit === null) throw new Error(`bodyLimit ${String(deps.bodyLimit)} is not a size`);
  const table = new Map<string, { route: RouteSpec; querySchema: JsonSchema | undefined }>();
  for (const route of routes) {
    if (!route.fastLane) continue;
    if (route.path.includes(':') || route.guard || route.body?.document) {
      throw new Error(`${route.path}: only a static path without a guard or a flow document can take the fast lane`);
    }
    table.set(`${route.method.toUpperCase()} ${route.path}`, { route, querySchema: route.query ? objectSchema(route.query) : undefined });
  }
  return (req, res) => {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const entry = table.get(`${req.method ?? ''} ${path}`);
    if (!entry) return false;
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    trackRequest(req, res, path, deps);
    setRequestRoute(res, entry.route.path);
    void serve(entry.route, entry.querySchema, req, res, mark < 0 ? '' : url.slice(mark + 1), limit, deps).catch((err: unknown) => {
      fail(res, err, path, deps.logger);
    });
    return true;
  };
}

async function serve(
  route: RouteSpec,
  querySchema: JsonSchema | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  search: string,
  limit: number,
  deps: FastLaneDeps,
): Promise<void> {
  const json = isJson(req.headers['content-type']);
  const value = json && hasBody(req) ? await readJson(req, limit) : undefined;
  const call = await prepareCall(route, querySchema, req, res, deps, {
    body: { value, length: contentLength(req), json },
    query: parseQuery(search),
    params: {},
  });
  writeReply(res, await route.handle(call));
}

function fail(res: ServerResponse, err: unknown, path: string, logger: Logger): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const problem = toProblem(err, path, requestIdOf(res));
  logServerProblem(logger, err, problem, res, path);
  writeProblem(res, problem, problemHeaders(err, problem));
}

/** `application/json` or `application/*+json`, as `jsonBody` accepts them. */
function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(';');
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type);
}

/** Whether the request says it has a body (as body-parser decides: a length or chunked). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || !Number.isNaN(Number.parseInt(req.headers['content-length'] ?? '', 10));
}

/**
 * Reads and parses a JSON body, failing the way body-parser does (so `toProblem` renders the
 * same document): too large 413 (checked against Content-Length first), unsupported charset 415,
 * malformed 400, cut off by the client 400. An empty body is `{}`.
 */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw Object.assign(new Error(`unsupported charset "${charset.toUpperCase()}"`), { type: 'charset.unsupported', status: 415 });
  }
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    if ((err as { type?: unknown }).type === 'entity.too.large') throw err;
    // The client went away mid-body: a 400 nobody reads, not a server error in the log.
    throw Object.assign(new Error('request aborted'), { type: 'request.aborted', status: 400 });
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  if (text.length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { type: 'entity.parse.failed', status: 400 });
  }
}

function tooLarge(limit: number): Error {
  return Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413, limit });
}

/** Writes a handler's Reply as `mountRoute`'s Express path does: JSON unless it names a type. */
function writeReply(res: ServerResponse, reply: Reply): void {
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.statusCode = reply.status;
  if (reply.body === undefined || reply.status === 204) {
    res.end();
    return;
  }
  const text = reply.contentType ? String(reply.body) : JSON.stringify(reply.body);
  res.setHeader('Content-Type', `${reply.contentType ?? 'application/json'}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
