import type { Catalogue } from '@convoflow/engine';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RuntimePort } from '../runtime/runtime-port.js';
import type { ApiKeyRecord, StoragePort } from '../storage/storage-port.js';
import type { ExpiringCache } from '../support/expiring-cache.js';

/** Settings of the HTTP layer, after defaults. */
export interface ResolvedApiConfig {
  bodyLimit: string | number;
  flowBodyLimit: string | number;
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
  /**
   * API keys as authentication reads them: by hash, and by id for the key behind an embed token.
   * Revoking a key must invalidate it.
   */
  apiKeys: ExpiringCache<string, ApiKeyRecord>;
  runtime: RuntimePort;
  catalogue: Catalogue;
  logger: Logger;
  metrics: Metrics;
  config: ResolvedApiConfig;
  /** Epoch ms; injectable so tests can mint already-expired tokens without waiting. */
  now(): number;
  /** Aborted when the server starts shutting down: long polls stop waiting. */
  shutdown?: AbortSignal;
}
