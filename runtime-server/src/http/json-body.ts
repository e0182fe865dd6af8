import type { IncomingMessage } from 'node:http';
import express, { type RequestHandler } from 'express';

const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/** The exact bytes of a request's JSON body, for signature checks (kept only while the request lives). */
export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return rawBodies.get(req);
}

/**
 * Parses JSON bodies (`application/json` and `application/*+json`) up to `limit`, keeping the raw
 * bytes for signature verification. Too large is a 413 and malformed JSON a 400, both rendered by
 * the error middleware.
 */
export function jsonBody(limit: string | number): RequestHandler {
  return express.json({
    limit,
    type: ['application/json', 'application/*+json'],
    verify: (req, _res, buf) => {
      rawBodies.set(req, buf);
    },
  });
}
