import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { RUN_LIMITS } from '@convoflow/engine';
import type { DefaultLaneName } from './runtime/effect-executor.js';
import { DEFAULT_COMPILED_FLOW_NODES } from './runtime/flow-cache.js';

/** Everything the server reads from its environment, validated once at start. */
export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  sqliteFile: string;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** How long a SQLite write waits for another connection's lock before answering 503. */
  sqliteBusyTimeoutMs: number;
  mongodbUri?: string;
  logLevel: string;
  embedTokenSecret: string;
  /** Seed the demo workspace's admin key with this secret instead of a random one. */
  adminKey?: string;
  /** Create the demo workspace and publish the example flows when the store is empty. */
  seedDemo: boolean;
  /** How often to poll the store for work written by other processes, ms. */
  pollMs: number;
  /** How often timers written by other processes are looked for, ms. */
  schedulerPollMs: number;
  /** How long a dead process's leases (a contact's events, claimed effects) keep others away, ms. */
  leaseMs: number;
  /** How long a dead process's locked timers wait before another process fires them, ms. */
  schedulerLockLifetimeMs: number;
  retention: { stepLogMs: number; journalMs: number; outboxMs: number; endedRunsMs: number; messagesMs: number; everyMs: number };
  /** Let the HTTP-request node call private addresses in the demo workspace (local development). */
  demoAllowPrivateNetwork: boolean;
  /** On SIGTERM/SIGINT, how long requests in flight may take to finish before they are cut, ms. */
  shutdownGraceMs: number;
  /** Effects performed at once, per lane: timers, sends to channels, node calls (HTTP and custom nodes). */
  effectSlots: Record<DefaultLaneName, number>;
  /** Of each lane's slots, the most one workspace may hold. */
  effectSlotsPerWorkspace: number;
  /** How many nodes the compiled flow versions kept in memory may have together. */
  compiledFlowNodes: number;
  /** Steps a run may take before it is failed with TOO_MANY_STEPS. */
  maxRunSteps: number;
}

/** A setting that is present but wrong: names the variable and what it should be. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

const DAY = 86_400_000;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new ConfigError(name, `expected an integer >= ${min}, got "${raw}"`);
  return value;
}

/**
 * Reads the server configuration from environment variables (see README.md).
 *
 * @throws ConfigError naming the variable when a value is malformed.
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = resolve(env.DATA_DIR ?? './data');
  const sync = (env.SQLITE_SYNCHRONOUS ?? 'FULL').toUpperCase();
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new ConfigError('SQLITE_SYNCHRONOUS', `expected FULL or NORMAL, got "${sync}"`);
  const secret = env.EMBED_TOKEN_SECRET ?? randomBytes(32).toString('base64url');
  if (secret.length < 32) throw new ConfigError('EMBED_TOKEN_SECRET', 'must be at least 32 characters');
  return {
    port: int(env, 'PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    sqliteFile: resolve(dataDir, env.SQLITE_FILE ?? 'convoflow.db'),
    sqliteSynchronous: sync,
    sqliteBusyTimeoutMs: int(env, 'SQLITE_BUSY_TIMEOUT_MS', 500),
    ...(env.MONGODB_URI ? { mongodbUri: env.MONGODB_URI } : {}),
    logLevel: env.LOG_LEVEL ?? 'info',
    embedTokenSecret: secret,
    ...(env.CONVOFLOW_ADMIN_KEY ? { adminKey: env.CONVOFLOW_ADMIN_KEY } : {}),
    seedDemo: env.SEED_DEMO !== '0',
    pollMs: int(env, 'POLL_MS', 100, 5),
    schedulerPollMs: int(env, 'SCHEDULER_POLL_MS', 500, 10),
    leaseMs: int(env, 'LEASE_MS', 30_000, 100),
    schedulerLockLifetimeMs: int(env, 'SCHEDULER_LOCK_LIFETIME_MS', 60_000, 100),
    retention: {
      stepLogMs: int(env, 'RETENTION_STEP_LOG_DAYS', 30) * DAY,
      journalMs: int(env, 'RETENTION_JOURNAL_DAYS', 7) * DAY,
      outboxMs: int(env, 'RETENTION_OUTBOX_DAYS', 7) * DAY,
      endedRunsMs: int(env, 'RETENTION_RUNS_DAYS', 90) * DAY,
      messagesMs: int(env, 'RETENTION_MESSAGES_DAYS', 365) * DAY,
      everyMs: int(env, 'RETENTION_EVERY_MINUTES', 15, 1) * 60_000,
    },
    demoAllowPrivateNetwork: env.DEMO_ALLOW_PRIVATE_NETWORK === '1',
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000),
    effectSlots: {
      timers: int(env, 'EFFECT_SLOTS_TIMERS', 16, 1),
      sends: int(env, 'EFFECT_SLOTS_SENDS', 64, 1),
      node_calls: int(env, 'EFFECT_SLOTS_NODE_CALLS', 64, 1),
    },
    effectSlotsPerWorkspace: int(env, 'EFFECT_SLOTS_PER_WORKSPACE', 16, 1),
    compiledFlowNodes: int(env, 'COMPILED_FLOW_NODES', DEFAULT_COMPILED_FLOW_NODES, 1),
    maxRunSteps: int(env, 'RUN_MAX_STEPS', RUN_LIMITS.maxSteps, 1),
  };
}
