import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestState {
  id: string;
  route?: string;
  workspaceId?: string;
  /** Why the request was refused with 503 (the store's reason), for its log line. */
  refusal?: string;
}

const states = new WeakMap<ServerResponse, RequestState>();

/** The log message of a request answered 503. */
export const REFUSED = 'request refused: the store cannot serve it now';

/** The id of a request: the caller's `X-Request-Id` when it is sane, else a fresh UUID. */
export function requestIdOf(res: ServerResponse): string | undefined {
  return states.get(res)?.id;
}

/** Records the matched route template (for metrics labels and logs). */
export function setRequestRoute(res: ServerResponse, route: string): void {
  const state = states.get(res);
  if (state) state.route = route;
}

/** Records the caller's workspace (for logs). */
export function setRequestWorkspace(res: ServerResponse, workspaceId: string): void {
  const state = states.get(res);
  if (state) state.workspaceId = workspaceId;
}

/**
 * Records why the request is refused with 503, for its one log line; false when the request is
 * not tracked (then the caller logs the reason itself).
 */
export function setRequestRefusal(res: ServerResponse, reason: string): boolean {
  const state = states.get(res);
  if (state) state.refusal = reason;
  return state !== undefined;
}

/** What request tracking reports to. */
export interface RequestContextDeps {
  logger: Logger;
  metrics: Metrics;
}

/**
 * First middleware of the app: gives the request an id (echoed as `X-Request-Id`), then, when the
 * response is finished, logs one line and records the HTTP metrics. The log names the path only:
 * query strings (which may hold a webhook `secret`) and headers (Authorization) are never logged.
 */
export function requestContext(deps: RequestContextDeps) {
  return (req: Request, res: Response, next: NextFunction): void => {
    trackRequest(req, res, req.path, deps);
    next();
  };
}

/** What `requestContext` does for one request, for a server that is not Express (the fast lane). */
export function trackRequest(req: IncomingMessage, res: ServerResponse, path: string, deps: RequestContextDeps): void {
  const given = req.headers['x-request-id'];
  const state: RequestState = { id: typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID() };
  states.set(res, state);
  res.setHeader('X-Request-Id', state.id);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const route = state.route ?? 'unmatched';
    const labels = { method: req.method ?? '', route, status: String(res.statusCode) };
    deps.metrics.httpRequestDuration.observe(labels, seconds);
    deps.metrics.httpRequestsTotal.inc(labels);
    const quiet = route === '/metrics' || route === '/healthz' || route === '/readyz';
    // A 503 (the store cannot serve now) is a state of the deployment, not a defect.
    const level = res.statusCode === 503 ? 'warn' : res.statusCode >= 500 ? 'error' : quiet ? 'debug' : 'info';
    // Two requests per message under load: no line is built for a level that is off.
    if (!deps.logger.isLevelEnabled(level)) return;
    const line = {
      reqId: state.id,
      method: req.method,
      path,
      route,
      status: res.statusCode,
      ms: Math.round(seconds * 1e6) / 1e3,
      ...(state.workspaceId ? { workspaceId: state.workspaceId } : {}),
      ...(state.refusal === undefined ? {} : { reason: state.refusal }),
    };
    const message = res.statusCode === 503 ? REFUSED : res.statusCode >= 500 ? 'request failed' : 'request';
    deps.logger[level](line, message);
  });
}
