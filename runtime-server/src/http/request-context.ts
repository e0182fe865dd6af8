import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestState {
  id: string;
  route?: string;
  workspaceId?: string;
}

const states = new WeakMap<Response, RequestState>();

/** The id of a request: the caller's `X-Request-Id` when it is sane, else a fresh UUID. */
export function requestIdOf(res: Response): string | undefined {
  return states.get(res)?.id;
}

/** Records the matched route template (for metrics labels and logs). */
export function setRequestRoute(res: Response, route: string): void {
  const state = states.get(res);
  if (state) state.route = route;
}

/** Records the caller's workspace (for logs). */
export function setRequestWorkspace(res: Response, workspaceId: string): void {
  const state = states.get(res);
  if (state) state.workspaceId = workspaceId;
}

/**
 * First middleware of the app: gives the request an id (echoed as `X-Request-Id`), then, when the
 * response is finished, logs one line and records the HTTP metrics. The log names the path only:
 * query strings (which may hold a webhook `secret`) and headers (Authorization) are never logged.
 */
export function requestContext(deps: { logger: Logger; metrics: Metrics }) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get('x-request-id');
    const state: RequestState = { id: given && REQUEST_ID.test(given) ? given : randomUUID() };
    states.set(res, state);
    res.set('X-Request-Id', state.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = state.route ?? 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      deps.metrics.httpRequestDuration.observe(labels, seconds);
      deps.metrics.httpRequestsTotal.inc(labels);
      const quiet = route === '/metrics' || route === '/healthz' || route === '/readyz';
      const line = {
        reqId: state.id,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        ms: Math.round(seconds * 1e6) / 1e3,
        ...(state.workspaceId ? { workspaceId: state.workspaceId } : {}),
      };
      if (res.statusCode >= 500) deps.logger.error(line, 'request failed');
      else if (quiet) deps.logger.debug(line, 'request');
      else deps.logger.info(line, 'request');
    });
    next();
  };
}
