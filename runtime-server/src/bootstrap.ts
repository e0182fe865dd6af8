import { fileURLToPath } from 'node:url';
import type { Application } from 'express';
import { Counter, Gauge } from 'prom-client';
import type { Catalogue } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';
import { createApp } from './app.js';
import type { ServerConfig } from './config.js';
import { createSimulatorChannel } from './channels/simulator/simulator-channel.js';
import type { ChannelAdapter } from './channels/channel-port.js';
import { seedDemo, type DemoSeed } from './demo/seed-demo.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createRuntime, type Runtime } from './runtime/create-runtime.js';
import { defaultEffectLanes } from './runtime/effect-executor.js';
import { createAgendaScheduler } from './scheduler/agenda-scheduler.js';
import { SqliteAgendaBackend } from './scheduler/sqlite/sqlite-agenda-backend.js';
import { createStore } from './storage/create-store.js';
import { isTransientStorageError } from './storage/errors.js';
import { throttledWarning } from './support/throttled-warning.js';
import type { StoragePort } from './storage/storage-port.js';

/** A wired server process: everything `server.ts` starts, also what tests start in process. */
export interface ServerParts {
  app: Application;
  store: StoragePort;
  runtime: Runtime;
  logger: Logger;
  metrics: Metrics;
  demo?: DemoSeed;
  /**
   * Makes every waiting long poll answer now with what it has, and later ones answer at once: the
   * first step of a graceful shutdown, so the HTTP server's drain is not held up by them.
   */
  endLongPolls(): void;
  /** Stops the runtime (draining in-flight effects), the retention job and the store. */
  close(): Promise<void>;
}

const EXAMPLE_FLOWS = fileURLToPath(new URL('../../examples/flows', import.meta.url));

/**
 * Opens the store, applies migrations, seeds the demo workspace when asked, and wires the scheduler,
 * runtime and HTTP app. Starts the runtime's workers; does not listen.
 */
export async function bootstrap(
  config: ServerConfig,
  options: { catalogue?: Catalogue; logger?: Logger; channels?: ChannelAdapter[]; fetch?: typeof fetch } = {},
): Promise<ServerParts> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const catalogue = options.catalogue ?? builtinCatalogue;
  const metrics = createMetrics();
  // MongoDB's modules load only when MongoDB is configured: the SQLite default does not carry them.
  const store = await createStore(
    config.mongodbUri
      ? { mongodbUri: config.mongodbUri }
      : {
          sqliteFile: config.sqliteFile,
          synchronous: config.sqliteSynchronous,
          busyTimeoutMs: config.sqliteBusyTimeoutMs,
          warn: (message) => logger.warn(message),
        },
  );
  await store.migrate();

  const backend =
    store.kind === 'sqlite'
      ? new SqliteAgendaBackend(store.db)
      : (await import('./scheduler/mongo-backend.js')).createMongoSchedulerBackend(config.mongodbUri ?? '');
  const runsEnded = new Counter({ name: 'convoflow_runs_ended_total', help: 'Runs that ended, by status.', labelNames: ['status'] as const, registers: [metrics.registry] });
  const effectsDone = new Counter({ name: 'convoflow_effects_total', help: 'Effects performed, by type and result.', labelNames: ['type', 'result'] as const, registers: [metrics.registry] });
  const inbound = new Counter({ name: 'convoflow_inbound_events_total', help: 'Inbound events journaled, by kind.', labelNames: ['kind'] as const, registers: [metrics.registry] });
  const storeUnavailable = new Counter({
    name: 'convoflow_store_unavailable_total',
    help: 'Times work was put off because the store could not be used (full, locked, unreachable), by the work: journal entries, effects, timers. Requests refused show as 503 in http_requests_total.',
    labelNames: ['work'] as const,
    registers: [metrics.registry],
  });
  const journalFailed = new Counter({
    name: 'convoflow_journal_failed_total',
    help: 'Inbound events whose processing failed for good (their journal entry is marked failed), by kind.',
    labelNames: ['kind'] as const,
    registers: [metrics.registry],
  });

  const schedulerDeferred = throttledWarning('timers deferred: the store cannot write now; they are retried', Date.now, (_level, message, data) =>
    logger.warn(data, message),
  );
  const scheduler = createAgendaScheduler({
    backend,
    processEvery: config.schedulerPollMs,
    lockLifetimeMs: config.schedulerLockLifetimeMs,
    onError: (err) => {
      if (!isTransientStorageError(err)) return logger.error({ err }, 'scheduler error');
      storeUnavailable.inc({ work: 'timers' });
      schedulerDeferred({}, err);
    },
  });


  // Read at scrape time: the backlog tells an operator (and the benchmarks) whether work keeps up.
  new Gauge({
    name: 'convoflow_journal_pending',
    help: 'Inbound events journaled and not processed yet.',
    registers: [metrics.registry],
    async collect() {
      this.set(await store.journal.countPending());
    },
  });
  new Gauge({
    name: 'convoflow_outbox_pending',
    help: 'Effects waiting to be performed (including retries not due yet).',
    registers: [metrics.registry],
    async collect() {
      this.set(await store.outbox.countPending());
    },
  });

  const channels = new Map<string, ChannelAdapter>([['simulator', createSimulatorChannel()]]);
  for (const adapter of options.channels ?? []) channels.set(adapter.channel, adapter);

  const runtime = createRuntime({
    store,
    catalogue,
    scheduler,
    channels,
    fetch: options.fetch ?? fetch,
    pollMs: config.pollMs,
    leaseMs: config.leaseMs,
    effectLanes: defaultEffectLanes(config.effectSlots, config.effectSlotsPerWorkspace),
    compiledFlowNodes: config.compiledFlowNodes,
    maxRunSteps: config.maxRunSteps,
    log: (level, message, data) => logger[level](data ?? {}, message),
    hooks: {
      onRunEnded: (run) => runsEnded.inc({ status: run.status }),
      onEffect: (type, ok) => effectsDone.inc({ type, result: ok ? 'ok' : 'error' }),
      onInbound: (kind) => inbound.inc({ kind }),
      onStoreUnavailable: (work) => storeUnavailable.inc({ work }),
      onJournalFailed: (kind) => journalFailed.inc({ kind }),
    },
  });

  // A lane whose slots are all taken makes its effects wait: slow remotes show here first.
  const laneGauge = (name: string, help: string, value: (lane: { slots: number; inFlight: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['lane'] as const,
      registers: [metrics.registry],
      collect() {
        for (const lane of runtime.effectLanes()) this.set({ lane: lane.name }, value(lane));
      },
    });
  laneGauge('convoflow_effects_in_flight', 'Effects being performed now, by lane (timers, sends, node_calls); at most convoflow_effect_slots.', (l) => l.inFlight);
  laneGauge('convoflow_effect_slots', 'Effects a lane performs at once (EFFECT_SLOTS_*).', (l) => l.slots);

  let demo: DemoSeed | undefined;
  if (config.seedDemo) {
    demo = await seedDemo({
      store,
      catalogue,
      flowsDir: EXAMPLE_FLOWS,
      dataDir: config.dataDir,
      ...(config.adminKey ? { adminKey: config.adminKey } : {}),
      allowPrivateNetwork: config.demoAllowPrivateNetwork,
      now: Date.now(),
    });
  }

  await runtime.start();
  const shutdown = new AbortController();
  const app = createApp({ store, runtime, catalogue, logger, metrics, config: { embedTokenSecret: config.embedTokenSecret }, shutdown: shutdown.signal });

  const retention = setInterval(() => {
    void (async () => {
      const report = await store.prune(config.retention, Date.now());
      if (store.kind === 'sqlite') await store.vacuum();
      logger.info({ report }, 'retention pruned');
    })().catch((err: unknown) => logger.error({ err }, 'retention failed'));
  }, config.retention.everyMs);
  retention.unref();

  return {
    app,
    store,
    runtime,
    logger,
    metrics,
    ...(demo ? { demo } : {}),
    endLongPolls: () => shutdown.abort(),
    async close() {
      shutdown.abort();
      clearInterval(retention);
      await runtime.stop();
      await store.close();
    },
  };
}
