/**
 * @module @convoflow/runtime-server
 *
 * The durable side of Convoflow: the storage port and its SQLite and MongoDB adapters, the agenda
 * scheduler, channel adapters, the runtime that journals inbound events and runs flows through the
 * pure engine, and the Express app of the REST API. Everything with I/O lives here.
 *
 * The whole server, wired as `server.ts` runs it (minus `listen`):
 *
 * ```ts
 * import { answerClientError, bootstrap, readConfig, requestListener } from '@convoflow/runtime-server';
 * const server = await bootstrap(readConfig(process.env));
 * createServer(requestListener(server.app)).on('clientError', answerClientError).listen(3000); // node:http; `server.app.listen` lacks the fast lane
 * // on SIGTERM:
 * await server.close();
 * ```
 *
 * Or the parts, to embed the runtime or wire it differently:
 *
 * ```ts
 * import { builtinCatalogue } from '@convoflow/nodes';
 * import {
 *   createApp, createRuntime, createSqliteStore, createAgendaScheduler, SqliteAgendaBackend, createSimulatorChannel,
 * } from '@convoflow/runtime-server';
 *
 * const store = createSqliteStore({ file: './data/convoflow.db' });
 * await store.migrate();
 * const scheduler = createAgendaScheduler({ backend: new SqliteAgendaBackend(store.db) });
 * const runtime = createRuntime({
 *   store, catalogue: builtinCatalogue, scheduler, fetch,
 *   channels: new Map([['simulator', createSimulatorChannel()]]),
 * });
 * await runtime.start();
 * const app = createApp({ store, runtime, catalogue: builtinCatalogue, config: { embedTokenSecret } });
 * ```
 */

// HTTP app and server wiring
export { createApp, requestListener } from './app.js';
export { answerClientError } from './http/client-error.js';
export type { AppConfig, AppDeps } from './app.js';
export { bootstrap } from './bootstrap.js';
export type { ServerParts } from './bootstrap.js';
export type { DemoSeed } from './demo/seed-demo.js';
export { readConfig, ConfigError } from './config.js';
export type { ServerConfig } from './config.js';

// Durable runtime
export { createRuntime } from './runtime/create-runtime.js';
export type { Runtime, RuntimeOptions } from './runtime/create-runtime.js';
export { DEFAULT_EFFECT_LANES, defaultEffectLanes } from './runtime/effect-executor.js';
export type { DefaultLaneName, EffectLane, EffectType } from './runtime/effect-executor.js';
export type { RuntimePort, Accepted, SimulatorOutbound } from './runtime/runtime-port.js';
export { TOO_MANY_STEPS } from './runtime/runtime-port.js';

// Storage
export { createStore, DEFAULT_SQLITE_FILE } from './storage/create-store.js';
export type { StoreConfig } from './storage/create-store.js';
export { createSqliteStore } from './storage/sqlite/sqlite-store.js';
export type { SqliteStore, SqliteStoreOptions, VacuumReport } from './storage/sqlite/sqlite-store.js';
export { createMongoStore } from './storage/mongoose/mongo-store.js';
export type { MongoStore, MongoStoreOptions } from './storage/mongoose/mongo-store.js';
export { StorageError, isStorageError } from './storage/errors.js';
export type { StorageErrorCode } from './storage/errors.js';
export type {
  StoragePort,
  Role,
  Workspace,
  WorkspaceSettings,
  ApiKeyRecord,
  FlowRecord,
  FlowVersionRecord,
  ContactChannelIdentity,
  ContactRecord,
  ContactAnnouncement,
  StoredRunStatus,
  RunRecord,
  StepLogEntry,
  JournalKind,
  JournalStatus,
  JournalEntry,
  OutboxStatus,
  OutboxEntry,
  StepCommit,
  MessageDirection,
  ConversationMessage,
  RetentionPolicy,
  PruneReport,
  Page,
  RunFilter,
} from './storage/storage-port.js';

// Scheduler
export { createAgendaScheduler, SqliteAgendaBackend, createMongoSchedulerBackend } from './scheduler/index.js';
export type {
  Scheduler,
  TimerSpec,
  CronSpec,
  FiredTimer,
  TimerHandler,
  AgendaScheduler,
  AgendaSchedulerOptions,
  RetryPolicy,
} from './scheduler/index.js';

// Channels
export { createSimulatorChannel } from './channels/simulator/simulator-channel.js';
export type { ChannelAdapter, ChannelRegistry, ChannelSendRequest, ChannelSendResult } from './channels/channel-port.js';

// Observability
export { createMetrics } from './observability/metrics.js';
export type { Metrics } from './observability/metrics.js';
export { createLogger } from './observability/logger.js';
export type { Logger } from './observability/logger.js';

// Access
export { createApiKey, mintApiKey, hashApiKey, apiKeyPrefix } from './auth/api-key.js';
export { signEmbedToken, verifyEmbedToken } from './auth/embed-token.js';
export type { EmbedTokenClaims, EmbedTokenProblem } from './auth/embed-token.js';
export { can } from './auth/roles.js';
export type { Permission } from './auth/roles.js';
