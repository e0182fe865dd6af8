import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../observability/logger.js';
import { HttpProblem, problemDocument, type ProblemDocument } from './problem.js';
import { REFUSED, requestIdOf, setRequestRefusal } from './request-context.js';

/** Content type of every error response. */
export const PROBLEM_JSON = 'application/problem+json';

const STORAGE_FULL = 'The server\'s storage is full, so nothing was written; retry later.';
const STORAGE_REFUSED = 'The server\'s storage refused the write (it may be full), so nothing was written; retry later.';
/** Seconds a client is asked to wait after a 503 (the store busy, unreachable or full). */
const RETRY_AFTER_S = '5';

/**
 * The headers of the response that carries `problem`: an HttpProblem's own, and on a 503 a
 * `Retry-After`, which webhook senders and channel providers honour before delivering again.
 */
export function problemHeaders(err: unknown, problem: ProblemDocument): Record<string, string> | undefined {
  if (err instanceof HttpProblem) return err.headers;
  return problem.status === 503 ? { 'Retry-After': RETRY_AFTER_S } : undefined;
}

/**
 * Maps anything thrown to a problem document. Pure apart from reading the error.
 *
 * - HttpProblem: as thrown.
 * - body-parser errors: malformed JSON 400, too large 413, unsupported charset/encoding 415.
 * - a path parameter the router cannot percent-decode: 400 naming `path`.
 * - StorageError codes: NOT_FOUND 404, CONFLICT 409, BAD_CURSOR 422, BUSY/UNAVAILABLE/NOT_MIGRATED/FULL/IO/CORRUPT 503
 *   (and raw SQLite unique-constraint / busy / full / I/O errors alike).
 * - anything else: 500 with a generic detail (the error itself goes to the log only).
 */
export function toProblem(err: unknown, instance: string, requestId?: string): ProblemDocument {
  if (err instanceof HttpProblem) return err.toDocument(instance, requestId);
  const extra = requestId ? { requestId } : {};
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  switch (e.type) {
    case 'entity.parse.failed':
      return problemDocument(400, 'malformed-json', `The body is not valid JSON: ${String(e.message ?? '')}`.trim(), instance, extra);
    case 'entity.too.large':
      return problemDocument(413, 'too-large', `The body exceeds the limit of ${String(e.limit ?? '')} bytes.`, instance, extra);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problemDocument(415, 'unsupported-media-type', String(e.message ?? 'Unsupported body encoding.'), instance, extra);
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return problemDocument(400, 'bad-request', String(e.message ?? 'The body could not be read.'), instance, extra);
  }
  if (e.name === 'StorageError' && typeof e.code === 'string') {
    const message = String(e.message ?? '');
    switch (e.code) {
      case 'NOT_FOUND':
        return problemDocument(404, 'not-found', message, instance, extra);
      case 'CONFLICT':
      case 'LEASE_LOST':
        // A driver's own words ("UNIQUE constraint failed: flows.workspace_id, ...") name tables, not fields.
        return problemDocument(409, 'conflict', /UNIQUE constraint|E11000/.test(message) ? 'A record with this key already exists.' : message, instance, extra);
      case 'BAD_CURSOR':
        return problemDocument(422, 'validation', message, instance, { ...extra, errors: [{ field: 'query.cursor', message: 'is not a cursor this server handed out' }] });
      case 'BUSY':
      case 'UNAVAILABLE':
      case 'NOT_MIGRATED':
        return problemDocument(503, 'unavailable', 'The store is unavailable; retry shortly.', instance, extra);
      case 'FULL':
        return problemDocument(503, 'unavailable', STORAGE_FULL, instance, extra);
      case 'IO':
        return problemDocument(503, 'unavailable', STORAGE_REFUSED, instance, extra);
      case 'CORRUPT':
        return problemDocument(503, 'unavailable', 'The store is unavailable; retry shortly.', instance, extra);
    }
  }
  // A raw driver error that escaped the store's own mapping (seen under jest, where a second module
  // registry loads better-sqlite3 again and `instanceof SqliteError` fails): same meaning, same status.
  if (e.name === 'SqliteError' && typeof e.code === 'string') {
    if (e.code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || e.code.startsWith('SQLITE_CONSTRAINT_PRIMARYKEY')) {
      return problemDocument(409, 'conflict', 'A record with this key already exists.', instance, extra);
    }
    if (e.code.startsWith('SQLITE_BUSY') || e.code.startsWith('SQLITE_LOCKED')) {
      return problemDocument(503, 'unavailable', 'The store is busy; retry shortly.', instance, extra);
    }
    if (e.code === 'SQLITE_FULL') return problemDocument(503, 'unavailable', STORAGE_FULL, instance, extra);
    if (e.code.startsWith('SQLITE_IOERR')) return problemDocument(503, 'unavailable', STORAGE_REFUSED, instance, extra);
  }
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  // The router decodes path parameters before any handler runs; `%ZZ` fails there.
  if (e.name === 'URIError' && status === 400) {
    return problemDocument(400, 'bad-request', 'A path segment is not valid percent-encoding.', instance, {
      ...extra,
      errors: [{ field: 'path', message: 'is not valid percent-encoding (a % must start an escape such as %20)' }],
    });
  }
  if (status >= 400 && status < 500 && e.expose === true) {
    return problemDocument(status, 'bad-request', String(e.message ?? ''), instance, extra);
  }
  return problemDocument(500, 'internal', 'Something went wrong on our side; the request id identifies it in the logs.', instance, extra);
}

/**
 * Logs the cause of a 5xx. A 503 is the store being busy, unreachable or full: a state of the
 * deployment, said as a warning with its reason on the request's own log line (one line per
 * refused request: on a full disk those lines land on the same disk), never a stack. Anything else
 * is a defect: an error line with its stack.
 */
export function logServerProblem(logger: Logger, err: unknown, problem: ProblemDocument, res: ServerResponse, path: string): void {
  if (problem.status < 500) return;
  const reqId = requestIdOf(res);
  if (problem.status === 503) {
    // Said once, on the request's own log line, when the request is tracked: one line per refusal.
    const reason = err instanceof Error ? err.message : String(err);
    if (!setRequestRefusal(res, reason)) logger.warn({ reqId, path, reason }, REFUSED);
  } else {
    logger.error({ err, reqId, path }, 'request error');
  }
}

/** Sends a problem document with its status and content type. */
export function sendProblem(res: Response, problem: ProblemDocument, headers?: Record<string, string>): void {
  if (headers) res.set(headers);
  res.status(problem.status).type(PROBLEM_JSON).send(JSON.stringify(problem));
}

/** `sendProblem` on a plain Node response (the fast lane): the same status, headers and bytes. */
export function writeProblem(res: ServerResponse, problem: ProblemDocument, headers?: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
  const text = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('Content-Type', `${PROBLEM_JSON}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** The last middleware: every error leaves as application/problem+json. */
export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem = toProblem(err, req.path, requestIdOf(res));
    logServerProblem(logger, err, problem, res, req.path);
    sendProblem(res, problem, problemHeaders(err, problem));
  };
}
