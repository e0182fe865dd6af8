import type { Catalogue } from '@convoflow/engine';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimePort } from '../runtime/runtime-port.js';
import type { StoragePort } from '../storage/storage-port.js';

/** Settings of the HTTP layer, after defaults. */
export interface ResolvedApiConfig {
  bodyLimit: string | number;
  embedTokenSecret: string | Buffer;
  embedTokenMaxTtlSeconds: number;
  embedTokenDefaultTtlSeconds: number;
  simulatorMaxWaitMs: number;
  /** Interval between transcript reads while a simulator long poll waits. */
  simulatorPollMs: number;
}

/** What the route modules work with. */
export interface ApiContext {
  store: StoragePort;
  runtime: RuntimePort;
  catalogue: Catalogue;
  logger: Logger;
  metrics: Metrics;
  config: ResolvedApiConfig;
  /** Epoch ms; injectable so tests can mint already-expired tokens without waiting. */
  now(): number;
}
