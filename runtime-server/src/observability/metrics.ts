import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus registry of one runtime-server, with the HTTP layer's own instruments. */
export interface Metrics {
  /** Everything `/metrics` exposes. The runtime registers its own instruments here too. */
  registry: Registry;
  /** `http_request_duration_seconds{method,route,status}`. */
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  /** `http_requests_total{method,route,status}`. */
  httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
}

/**
 * Creates a fresh registry (never the prom-client global one, so several apps can live in one
 * process, as in tests) with the HTTP instruments and, unless turned off, Node's default metrics.
 *
 * @example
 * const metrics = createMetrics();
 * const runsStarted = new Counter({ name: 'convoflow_runs_started_total', help: '...', registers: [metrics.registry] });
 * const app = createApp({ store, runtime, catalogue, metrics, config });
 */
export function createMetrics(options: { defaultMetrics?: boolean; prefix?: string } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: options.prefix ?? '' });
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by route template.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpRequestsTotal = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests handled, by route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  return { registry, httpRequestDuration, httpRequestsTotal };
}
