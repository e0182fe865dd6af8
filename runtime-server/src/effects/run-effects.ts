import { setTimeout as sleep } from 'node:timers/promises';
import {
  formatCount,
  idempotencyKey,
  RUN_LIMITS,
  type Catalogue,
  type Effect,
  type FlowEvent,
  type JsonObject,
} from '@convoflow/engine';
import type { ExecutableNodeDefinition, NodeResult } from '@convoflow/nodes';
import type { ChannelRegistry } from '../channels/channel-port.js';
import type { Scheduler } from '../scheduler/scheduler-port.js';
import type {
  ContactChannelIdentity,
  ConversationMessage,
  JournalEntry,
  OutboxEntry,
  RunRecord,
  StoragePort,
} from '../storage/storage-port.js';
import { isTransientStorageError, storeRetryDelayMs } from '../storage/errors.js';
import { contactOrderingKey } from '../runtime/ids.js';
import { toStored } from '../runtime/journal-payloads.js';
import { outboundRecord, recipientOf, sendCompleted, type SendEffect } from './send-record.js';

export interface EffectRunnerDeps {
  store: StoragePort;
  catalogue: Catalogue;
  channels: ChannelRegistry;
  scheduler: Scheduler;
  now(): number;
  /** The `fetch` node code gets; the runtime passes one that refuses private networks by default. */
  fetch: typeof fetch;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: JsonObject): void;
  /** Attempts before a transient failure becomes final. */
  maxAttempts?: number;
  /** Per-call time limit of node code. */
  nodeTimeoutMs?: number;
  /** How long a channel adapter's send is waited for before it counts as a transient failure. */
  sendTimeoutMs?: number;
  /** Called after a send's outbound message is stored (committed), with the identity it went to. */
  onMessageStored?(message: ConversationMessage, to: ContactChannelIdentity): void;
  /** Told each time an effect waits for a store that cannot be used now (see `whileStoreRecovers`). */
  onStoreUnavailable?(error: Error): void;
  /** Aborted when the runtime stops: an effect still waiting for the store then gives up. */
  stopping?: AbortSignal;
}

type Outcome =
  | { kind: 'done'; result: JsonObject; event?: FlowEvent; record?: OutboundRecord }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string; event?: FlowEvent };
type Failed = Extract<Outcome, { kind: 'failed' }>;

/** A sent message, stored in the transaction that completes its effect. */
interface OutboundRecord {
  message: Omit<ConversationMessage, 'seq'>;
  to: ContactChannelIdentity;
}

/** What a channel adapter's send may answer. */
const SEND_STATUSES: ReadonlySet<unknown> = new Set(['sent', 'window_closed', 'failed']);

/** A transient failure: worth another attempt later. */
class RetryableEffectError extends Error {}

/**
 * Performs one claimed outbox entry and records its outcome. The outcome event (node.completed or
 * node.failed) is journaled in the same transaction that marks the effect done, so it is never
 * lost and never delivered twice. Work is keyed by `runId:seq`, passed to providers and node code
 * as the idempotency key.
 *
 * While the store cannot be used (a full disk, a lock, a failover) the effect waits for it here
 * (see `whileStoreRecovers`), and nothing of that counts as an attempt. Rejects with the store's
 * error only when the runtime stops meanwhile; the entry is then performed after the restart.
 */
export async function runEffect(deps: EffectRunnerDeps, entry: OutboxEntry): Promise<void> {
  const { store } = deps;
  const run = await whileStoreRecovers(deps, () => store.runs.get(entry.workspaceId, entry.runId));
  const at = deps.now();
  if (!run) {
    await whileStoreRecovers(deps, () => store.outbox.fail(entry.runId, entry.seq, 'run no longer exists', undefined, at));
    return;
  }
  let outcome: Outcome;
  try {
    // A store error inside perform comes before anything leaves this process (reading the
    // contact, storing the timer that is the effect itself), so doing it again is safe.
    outcome = await whileStoreRecovers(deps, () => perform(deps, entry.effect, run));
  } catch (err) {
    if (isTransientStorageError(err)) throw err; // stopping
    const message = errorMessage(err);
    outcome = err instanceof RetryableEffectError ? { kind: 'retry', error: message } : failure(entry.effect, message);
  }
  const maxAttempts = deps.maxAttempts ?? 5;
  if (outcome.kind === 'retry' && entry.attempts + 1 >= maxAttempts) {
    outcome = failure(entry.effect, `gave up after ${maxAttempts} attempts: ${outcome.error}`);
  }
  const now = deps.now();
  const done = outcome;
  const fail = (failed: Failed) =>
    whileStoreRecovers(deps, () =>
      store.outbox.fail(entry.runId, entry.seq, failed.error, undefined, now, failed.event && journalOutcome(run, entry, failed.event)),
    );
  switch (done.kind) {
    case 'done': {
      let stored: ConversationMessage | undefined;
      try {
        stored = await whileStoreRecovers(deps, () =>
          store.outbox.complete(
            entry.runId,
            entry.seq,
            done.result,
            now,
            done.event && journalOutcome(run, entry, done.event),
            done.record?.message,
          ),
        );
      } catch (err) {
        if (isTransientStorageError(err)) throw err; // stopping
        // An outcome that cannot be written (what a channel adapter answered is not JSON, say)
        // never will be: left to its lease, the work would be done again and again, forever.
        await fail(failure(entry.effect, `its outcome could not be recorded: ${errorMessage(err)}`));
        return;
      }
      if (stored && done.record) deps.onMessageStored?.(stored, done.record.to);
      return;
    }
    case 'retry': {
      const backoff = Math.min(60_000, 500 * 2 ** entry.attempts);
      await whileStoreRecovers(deps, () => store.outbox.fail(entry.runId, entry.seq, done.error, now + backoff, now));
      return;
    }
    case 'failed':
      await fail(done);
  }
}

/**
 * Runs `work` (a read, a write, or the effect itself) again while the store cannot be used (after
 * `storeRetryDelayMs`). Above all for the outcome of work already done: leaving the entry to
 * be claimed again when its lease lapses would perform the work a second time, and a provider that
 * ignores idempotency keys would send the message twice. The effect stays in the runtime's running
 * set meanwhile, so its lease is renewed and this process does not claim it again. Only a stopping
 * runtime gives up, leaving the entry to be performed again after the restart.
 */
async function whileStoreRecovers<T>(deps: EffectRunnerDeps, work: () => Promise<T>): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await work();
    } catch (err) {
      if (!isTransientStorageError(err) || deps.stopping?.aborted) throw err;
      deps.onStoreUnavailable?.(err as Error);
      await sleep(storeRetryDelayMs(failures), undefined, deps.stopping ? { signal: deps.stopping } : {}).catch(
        () => undefined, // stopping: the next failure gives up
      );
    }
  }
}

function failure(effect: Effect, message: string, code = 'NODE_FAILED'): Failed {
  if (effect.type === 'sendMessage') {
    // A send that cannot go out is an outcome of the node (`failed`), not a crash of the run.
    return {
      kind: 'failed',
      error: message,
      event: { type: 'node.completed', at: 0, nodeId: effect.nodeId, seq: effect.seq, output: 'failed', data: { reason: message } },
    };
  }
  if (effect.type === 'executeNode') {
    return {
      kind: 'failed',
      error: message,
      event: { type: 'node.failed', at: 0, nodeId: effect.nodeId, seq: effect.seq, error: { code, message } },
    };
  }
  return { kind: 'failed', error: message };
}

function journalOutcome(run: RunRecord, entry: OutboxEntry, event: FlowEvent): Omit<JournalEntry, 'seq' | 'status' | 'attempts'> {
  return {
    id: `jrn_fx_${run.id}_${entry.seq}`,
    workspaceId: run.workspaceId,
    kind: 'effect',
    dedupeKey: `effect:${idempotencyKey(run.id, entry.seq)}`,
    orderingKey: contactOrderingKey(run.workspaceId, run.contactId),
    payload: toStored('effect', { runId: run.id, event }),
    receivedAt: event.at,
  };
}

async function perform(deps: EffectRunnerDeps, effect: Effect, run: RunRecord): Promise<Outcome> {
  const key = idempotencyKey(run.id, effect.seq);
  switch (effect.type) {
    case 'scheduleTimer':
      await deps.scheduler.scheduleTimer({
        timerId: timerJobId(run.id, effect.timerId),
        dueAt: effect.dueAt,
        payload: { workspaceId: run.workspaceId, runId: run.id, contactId: run.contactId, timerId: effect.timerId, dueAt: effect.dueAt },
      });
      return { kind: 'done', result: { scheduled: effect.dueAt } };
    case 'cancelTimer':
      await deps.scheduler.cancelTimer(timerJobId(run.id, effect.timerId));
      return { kind: 'done', result: { cancelled: true } };
    case 'sendMessage':
      return send(deps, effect, run, key);
    case 'executeNode':
      return execute(deps, effect, run, key);
  }
}

/** The scheduler job id of a run's timer. */
export const timerJobId = (runId: string, timerId: string): string => `${runId}/${timerId}`;

async function send(
  deps: EffectRunnerDeps,
  effect: SendEffect,
  run: RunRecord,
  key: string,
): Promise<Outcome> {
  const contact = await deps.store.contacts.get(run.workspaceId, run.contactId);
  const identity = contact && recipientOf(contact, run);
  const completed = (output: string, data: JsonObject, record?: OutboundRecord): Outcome => ({
    kind: 'done',
    result: { output, ...data },
    event: sendCompleted(effect, output, data, deps.now()),
    ...(record ? { record } : {}),
  });
  if (!contact || !identity) return completed('failed', { reason: 'The contact has no channel to send to' });
  const adapter = deps.channels.get(identity.channel);
  if (!adapter) return completed('failed', { reason: `No adapter is configured for channel "${identity.channel}"` });
  const timeoutMs = deps.sendTimeoutMs ?? 30_000;
  const result = await withDeadline(
    timeoutMs,
    () => new RetryableEffectError(`the ${identity.channel} channel did not answer within ${formatCount(timeoutMs)} ms`),
    (signal) =>
      adapter.send({ workspaceId: run.workspaceId, contactId: contact.id, to: identity.externalId, message: effect.message, idempotencyKey: key, signal }),
  );
  if (!SEND_STATUSES.has((result as { status?: unknown } | undefined)?.status)) {
    const answered = typeof result === 'object' && result !== null ? `status ${JSON.stringify(result.status)}` : String(result);
    return completed('failed', { reason: `the ${identity.channel} channel's adapter answered ${answered}, not a status of sent, window_closed or failed` });
  }
  if (result.status === 'failed' && result.retryable) throw new RetryableEffectError(result.reason ?? 'transient send failure');
  // A sent message joins the conversation in the transaction that completes the effect.
  const record: OutboundRecord | undefined =
    result.status === 'sent' ? { to: identity, message: outboundRecord(run, identity, effect, key, deps.now()) } : undefined;
  return completed(
    result.status,
    {
      ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}),
      ...(result.reason ? { reason: result.reason } : {}),
    },
    record,
  );
}

async function execute(
  deps: EffectRunnerDeps,
  effect: Extract<Effect, { type: 'executeNode' }>,
  run: RunRecord,
  key: string,
): Promise<Outcome> {
  const definition = deps.catalogue.get(effect.nodeType, effect.typeVersion) as ExecutableNodeDefinition | undefined;
  const execute = definition?.execute;
  if (!execute) return failure(effect, `Node type ${effect.nodeType}@${effect.typeVersion} cannot be executed here`);
  const workspace = await deps.store.workspaces.get(run.workspaceId);
  const timeoutMs = deps.nodeTimeoutMs ?? 60_000;
  let result: NodeResult;
  try {
    result = await withDeadline(
      timeoutMs,
      () => new Error(`the node did not finish within ${formatCount(timeoutMs)} ms`),
      (signal) =>
        execute(
          {
            runId: run.id,
            nodeId: effect.nodeId,
            idempotencyKey: key,
            fetch: deps.fetch,
            signal,
            log: (level, message, data) => deps.log(level, message, { runId: run.id, nodeId: effect.nodeId, ...(data ?? {}) }),
            config: { allowPrivateNetwork: workspace?.settings.allowPrivateNetwork ?? false },
          },
          effect.params,
        ),
    );
  } catch (err) {
    const retryable = typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
    const message = errorMessage(err);
    if (retryable) throw new RetryableEffectError(message);
    return failure(effect, message);
  }
  const checked = storableResult(result);
  if ('problem' in checked) return failure(effect, checked.problem, checked.code);
  return {
    kind: 'done',
    result: { output: checked.output },
    event: {
      type: 'node.completed',
      at: deps.now(),
      nodeId: effect.nodeId,
      seq: effect.seq,
      output: checked.output,
      data: checked.data ?? {},
      ...(checked.set ? { set: checked.set } : {}),
    },
  };
}

/**
 * Runs `work` with a signal aborted after `ms`, and stops waiting for it then (rejecting with
 * `timedOut()`) whether or not it heeds the signal: node code or an adapter that never settles
 * would otherwise hold its effect slot, its lease renewed, for good.
 */
async function withDeadline<T>(ms: number, timedOut: () => Error, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const deadline = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
  });
  const timer = setTimeout(() => controller.abort(timedOut()), ms);
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The most characters of a node's error message kept: it is stored, journaled and shown. */
const MAX_ERROR_CHARS = 2_000;

function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > MAX_ERROR_CHARS ? `${message.slice(0, MAX_ERROR_CHARS)}… (${formatCount(message.length)} characters)` : message;
}

/**
 * What node code returned, as it is stored: JSON (dates become text, undefined fields go), within
 * what a run may hold. Node code is anyone's JavaScript: a result that could not be journaled made
 * the outcome's write throw, and the effect was performed again each time its lease lapsed,
 * calling the remote again, forever. Such a result now fails the node instead.
 */
function storableResult(result: unknown): NodeResult | { problem: string; code: string } {
  const invalid = (problem: string) => ({ problem: `the node returned ${problem}`, code: 'INVALID_RESULT' });
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return invalid('no result object');
  const { output, data, set } = result as Record<string, unknown>;
  if (typeof output !== 'string' || output === '') return invalid('a result without an "output" (a non-empty string)');
  for (const [field, value] of Object.entries({ data, set })) {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      return invalid(`"${field}" that is not an object`);
    }
  }
  let json: string;
  try {
    json = JSON.stringify({ data, set });
  } catch (err) {
    return invalid(`a result that is not JSON (${errorMessage(err)})`);
  }
  if (json.length > RUN_LIMITS.maxStateChars) {
    return {
      problem: `the node returned ${formatCount(json.length)} characters of data; a run holds at most ${formatCount(RUN_LIMITS.maxStateChars)}`,
      code: 'VALUE_TOO_LARGE',
    };
  }
  return { output, ...(JSON.parse(json) as Pick<NodeResult, 'data' | 'set'>) };
}
