import type { Request, Response } from 'express';
import { problemDocument } from './problem.js';
import { requestIdOf } from './request-context.js';
import { sendProblem } from './error-handler.js';
import type { HttpMethod } from './route.js';

/**
 * The handler after every route: 405 with `Allow` when the path exists with other methods, else
 * 404. Path matching mirrors Express's defaults (case-insensitive, optional trailing slash).
 */
export function fallback(routes: { method: HttpMethod; path: string }[]) {
  const patterns = new Map<string, { re: RegExp; methods: Set<string> }>();
  for (const route of routes) {
    let entry = patterns.get(route.path);
    if (!entry) {
      const source = route.path
        .split('/')
        .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { re: new RegExp(`^${source}/?$`, 'i'), methods: new Set() };
      patterns.set(route.path, entry);
    }
    entry.methods.add(route.method.toUpperCase());
    if (route.method === 'get') entry.methods.add('HEAD');
  }
  return (req: Request, res: Response): void => {
    const allowed = new Set<string>();
    for (const { re, methods } of patterns.values()) if (re.test(req.path)) methods.forEach((m) => allowed.add(m));
    const id = requestIdOf(res);
    const extra = id ? { requestId: id } : {};
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(', ');
      sendProblem(res, problemDocument(405, 'method-not-allowed', `${req.method} is not allowed here; use ${allow}.`, req.path, extra), { Allow: allow });
      return;
    }
    sendProblem(res, problemDocument(404, 'not-found', `No route ${req.method} ${req.path}.`, req.path, extra));
  };
}
