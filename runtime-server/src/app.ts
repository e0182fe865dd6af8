import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Application } from 'express';
import type { Catalogue, JsonObject } from '@convoflow/engine';
import type { ApiContext, ResolvedApiConfig } from './api/context.js';
import { buildOpenApiDocument } from './api/openapi.js';
import { apiRoutes } from './api/routes.js';
import { API_SCHEMAS } from './api/schemas.js';
import { errorHandler } from './http/error-handler.js';
import { createFastLane, type FastLane } from './http/fast-lane.js';
import { fallback } from './http/fallback.js';
import { jsonBody } from './http/json-body.js';
import { mountRoute } from './http/mount-route.js';
import { requestContext } from './http/request-context.js';
import { createRequestValidator } from './http/validator.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import type { RuntimePort } from './runtime/runtime-port.js';
import type { StoragePort } from './storage/storage-port.js';
import { ExpiringCache } from './support/expiring-cache.js';

/** How long an API key looked up by hash is trusted before it is read again (revocation in another process). */
const API_KEY_CACHE_MS = 1_000;

// Compiled schemas are the same for every app in the process; compiling the flow schema is the
// expensive part of createApp, so it happens once.
let validator: ReturnType<typeof createRequestValidator> | undefined;

/** The fast lane of each app createApp built (see `requestListener`). */
const lanes = new WeakMap<Application, FastLane>();

/** Settings of the HTTP layer. */
export interface AppConfig {
  /**
   * Key of the HMAC that signs embed tokens; at least 32 bytes. Every process serving one
   * deployment needs the same key, or tokens minted by one are refused by the others.
   */
  embedTokenSecret: string | Buffer;
  /** Largest accepted JSON body (default `'256kb'`); larger is a 413. */
  bodyLimit?: string | number;
  /**
   * Largest flow document accepted by the routes that take one (create, update, validate), default
   * `'2mb'`: ~4,500 nodes of ~450 bytes. Larger is a 413.
   */
  flowBodyLimit?: string | number;
  /** Longest embed-token lifetime a caller may ask for (default 3600 s). */
  embedTokenMaxTtlSeconds?: number;
  /** Lifetime of an embed token when the caller names none (default 900 s). */
  embedTokenDefaultTtlSeconds?: number;
  /** Upper bound of the simulator transcript long poll (default 25 000 ms). */
  simulatorMaxWaitMs?: number;
  /** Express `trust proxy` setting, for deployments behind a reverse proxy. */
  trustProxy?: boolean | number | string;
  /** Version reported in /openapi.json (default `0.1.0`). */
  version?: string;
}

/** What the HTTP layer needs; it never listens itself (see server.ts). */
export interface AppDeps {
  store: StoragePort;
  runtime: RuntimePort;
  catalogue: Catalogue;
  config: AppConfig;
  /** JSON logger (default: a pino logger at `LOG_LEVEL`). */
  logger?: Logger;
  /** Metrics registry (default: a fresh one). Pass the runtime's to expose both at /metrics. */
  metrics?: Metrics;
  /** Epoch-ms clock for record stamps and token expiry (default `Date.now`). */
  clock?: () => number;
  /**
   * Extra handlers that are not part of the REST API (so not in /openapi.json): `beforeBody` runs
   * before JSON parsing (channel webhooks that verify signatures on raw bytes with their own
   * parser), `afterApi` after the API routes (the designer's static files). Both sit inside the
   * request log, metrics and problem+json error handling, and before the 404/405 fallback.
   */
  mount?: { beforeBody?(app: Application): void; afterApi?(app: Application): void };
  /**
   * Abort it when the server starts shutting down: waiting long polls then answer at once with what
   * they have, so the server's drain is not held up by them (see `createDrainableServer`).
   */
  shutdown?: AbortSignal;
}

/**
 * Builds the Express application of the REST API: routes under `/api`, `/healthz`, `/readyz`,
 * `/metrics` and `/openapi.json`. Every error is `application/problem+json`. Does not listen.
 * Serve it through `requestListener(app)`, which adds the fast lane of the per-message routes;
 * the app on its own (mounted in another Express app, or `app.listen`) serves them too, slower.
 *
 * @example
 * const app = createApp({ store, runtime, catalogue: builtinCatalogue, config: { embedTokenSecret } });
 * http.createServer(requestListener(app)).listen(3000);
 * // in tests:
 * await request(app).get('/api/flows').set('authorization', `Bearer ${key}`).expect(200);
 */
export function createApp(deps: AppDeps): Application {
  const config = resolveConfig(deps.config);
  const logger = deps.logger ?? createLogger();
  const metrics = deps.metrics ?? createMetrics();
  const ctx: ApiContext = {
    store: deps.store,
    apiKeys: new ExpiringCache(API_KEY_CACHE_MS),
    runtime: deps.runtime,
    catalogue: deps.catalogue,
    logger,
    metrics,
    config,
    now: deps.clock ?? Date.now,
    ...(deps.shutdown ? { shutdown: deps.shutdown } : {}),
  };

  let document: JsonObject | undefined;
  const routes = apiRoutes(ctx, () => {
    document ??= buildOpenApiDocument(routes, API_SCHEMAS, {
      title: 'Convoflow API',
      version: deps.config.version ?? '0.1.0',
      description: 'Flows, runs, contacts, the node catalogue, API keys, webhook triggers and the simulator channel. Errors are RFC 9457 problem documents.',
    });
    return document;
  });
  validator ??= createRequestValidator(API_SCHEMAS);

  const app = express();
  app.disable('x-powered-by');
  // Responses carry their own validators where one means something (a flow's revision ETag); a
  // SHA-1 of every other body (long polls, run lists) cost CPU and saved no transfer.
  app.set('etag', false);
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  app.use(requestContext({ logger, metrics }));
  deps.mount?.beforeBody?.(app);
  // Flow documents outgrow every other body; their routes read them first, with their own limit
  // (the general parser then finds the body read and passes).
  for (const route of routes) if (route.body?.document) app[route.method](route.path, jsonBody(config.flowBodyLimit));
  app.use(jsonBody(config.bodyLimit));
  for (const route of routes) {
    mountRoute(app, route, { store: deps.store, apiKeys: ctx.apiKeys, validator, embedTokenSecret: config.embedTokenSecret, now: ctx.now });
  }
  deps.mount?.afterApi?.(app);
  app.use(fallback(routes));
  app.use(errorHandler(logger));
  // What an integrator mounts before the API (CORS, an allow-list, ...) must see every request.
  if (deps.mount?.beforeBody) return app;
  lanes.set(
    app,
    createFastLane(routes, {
      store: deps.store,
      apiKeys: ctx.apiKeys,
      validator,
      embedTokenSecret: config.embedTokenSecret,
      now: ctx.now,
      logger,
      metrics,
      bodyLimit: config.bodyLimit,
    }),
  );
  return app;
}

/**
 * What to give `http.createServer` for an app from `createApp`: the fast lane (src/http/fast-lane.ts)
 * for the routes that take it, the Express app for everything else. An app built with a
 * `mount.beforeBody` has no fast lane: everything goes through Express and what was mounted.
 */
export function requestListener(app: Application): (req: IncomingMessage, res: ServerResponse) => void {
  const lane = lanes.get(app);
  if (!lane) return app;
  return (req, res) => {
    if (!lane(req, res)) app(req, res);
  };
}

function resolveConfig(config: AppConfig): ResolvedApiConfig & { trustProxy?: boolean | number | string } {
  const secretBytes = typeof config.embedTokenSecret === 'string' ? Buffer.byteLength(config.embedTokenSecret) : config.embedTokenSecret.length;
  if (secretBytes < 32) throw new Error('config.embedTokenSecret must be at least 32 bytes');
  const maxTtl = config.embedTokenMaxTtlSeconds ?? 3600;
  return {
    bodyLimit: config.bodyLimit ?? '256kb',
    flowBodyLimit: config.flowBodyLimit ?? '2mb',
    embedTokenSecret: config.embedTokenSecret,
    embedTokenMaxTtlSeconds: maxTtl,
    embedTokenDefaultTtlSeconds: Math.min(config.embedTokenDefaultTtlSeconds ?? 900, maxTtl),
    simulatorMaxWaitMs: config.simulatorMaxWaitMs ?? 25_000,
    simulatorPollMs: 100,
    ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}),
  };
}
