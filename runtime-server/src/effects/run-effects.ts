import { setTimeout as sleep } from 'node:timers/promises';
import {
  idempotencyKey,
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
import { isTransientStorageError } from '../storage/errors.js';
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
  /** Called after a send's outbound message is stored (committed), with the identity it went to. */
  onMessageStored?(message: ConversationMessage, to: ContactChannelIdentity): void;
  /** Told each time the outcome of work already done could not be written yet (see `recordOutcome`). */
  onOutcomeDeferred?(error: Error): void;
  /** Aborted when the runtime stops: an outcome still waiting for the store is then given up. */
  stopping?: AbortSignal;
}

type Outcome =
  | { kind: 'done'; result: JsonObject; event?: FlowEvent; record?: OutboundRecord }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string; event?: FlowEvent };

/** A sent message, stored in the transaction that completes its effect. */
interface OutboundRecord {
  message: Omit<ConversationMessage, 'seq'>;
  to: ContactChannelIdentity;
}

/** A transient failure: worth another attempt later. */
class RetryableEffectError extends Error {}

/**
 * Performs one claimed outbox entry and records its outcome. The outcome event (node.completed or
 * node.failed) is journaled in the same transaction that marks the effect done, so it is never
 * lost and never delivered twice. Work is keyed by `runId:seq`, passed to providers and node code
 * as the idempotency key.
 */
export async function runEffect(deps: EffectRunnerDeps, entry: OutboxEntry): Promise<void> {
  const { store } = deps;
  const run = await store.runs.get(entry.workspaceId, entry.runId);
  const at = deps.now();
  if (!run) {
    await store.outbox.fail(entry.runId, entry.seq, 'run no longer exists', undefined, at);
    return;
  }
  let outcome: Outcome;
  try {
    outcome = await perform(deps, entry.effect, run);
  } catch (err) {
    // The store could not be read or written (a full disk, a lock, a failover): nothing is known
    // about the effect's outcome, so nothing is recorded. The entry stays claimed, and is taken
    // again when its lease lapses, without counting as an attempt.
    if (isTransientStorageError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    outcome = err instanceof RetryableEffectError ? { kind: 'retry', error: message } : failure(entry.effect, message);
  }
  const maxAttempts = deps.maxAttempts ?? 5;
  if (outcome.kind === 'retry' && entry.attempts + 1 >= maxAttempts) {
    outcome = failure(entry.effect, `gave up after ${maxAttempts} attempts: ${outcome.error}`);
  }
  const now = deps.now();
  const done = outcome;
  switch (done.kind) {
    case 'done': {
      const stored = await recordOutcome(deps, () =>
        store.outbox.complete(
          entry.runId,
          entry.seq,
          done.result,
          now,
          done.event && journalOutcome(run, entry, done.event),
          done.record?.message,
        ),
      );
      if (stored && done.record) deps.onMessageStored?.(stored, done.record.to);
      return;
    }
    case 'retry': {
      const backoff = Math.min(60_000, 500 * 2 ** entry.attempts);
      await recordOutcome(deps, () => store.outbox.fail(entry.runId, entry.seq, done.error, now + backoff, now));
      return;
    }
    case 'failed':
      await recordOutcome(deps, () =>
        store.outbox.fail(entry.runId, entry.seq, done.error, undefined, now, done.event && journalOutcome(run, entry, done.event)),
      );
  }
}

/** The longest wait between two attempts to write an outcome. */
const OUTCOME_RETRY_MAX_MS = 5_000;

/**
 * Writes the outcome of work already done. While the store cannot write (a full disk, a lock, a
 * failover) it is tried again here, every 100 ms backing off to 5 s, instead of leaving the entry
 * to be claimed again when its lease lapses: the work would then be performed a second time, and
 * a provider that ignores idempotency keys would send the message twice. Only a stopping runtime
 * gives up, leaving the entry to be performed again after the restart.
 */
async function recordOutcome<T>(deps: EffectRunnerDeps, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await write();
    } catch (err) {
      if (!isTransientStorageError(err) || deps.stopping?.aborted) throw err;
      deps.onOutcomeDeferred?.(err as Error);
      await sleep(Math.min(OUTCOME_RETRY_MAX_MS, 100 * 2 ** attempt), undefined, deps.stopping ? { signal: deps.stopping } : {}).catch(
        () => undefined, // stopping: the next failure gives up
      );
    }
  }
}

function failure(effect: Effect, message: string): Outcome {
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
      event: { type: 'node.failed', at: 0, nodeId: effect.nodeId, seq: effect.seq, error: { code: 'NODE_FAILED', message } },
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
  const result = await adapter.send({
    workspaceId: run.workspaceId,
    contactId: contact.id,
    to: identity.externalId,
    message: effect.message,
    idempotencyKey: key,
  });
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
  if (!definition?.execute) {
    return failure(effect, `Node type ${effect.nodeType}@${effect.typeVersion} cannot be executed here`);
  }
  const workspace = await deps.store.workspaces.get(run.workspaceId);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('node timed out')), deps.nodeTimeoutMs ?? 60_000);
  let result: NodeResult;
  try {
    result = await definition.execute(
      {
        runId: run.id,
        nodeId: effect.nodeId,
        idempotencyKey: key,
        fetch: deps.fetch,
        signal: controller.signal,
        log: (level, message, data) => deps.log(level, message, { runId: run.id, nodeId: effect.nodeId, ...(data ?? {}) }),
        config: { allowPrivateNetwork: workspace?.settings.allowPrivateNetwork ?? false },
      },
      effect.params,
    );
  } catch (err) {
    const retryable = typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
    const message = err instanceof Error ? err.message : String(err);
    if (retryable) throw new RetryableEffectError(message);
    return failure(effect, message);
  } finally {
    clearTimeout(timer);
  }
  const data = result.data ?? {};
  return {
    kind: 'done',
    result: { output: result.output },
    event: {
      type: 'node.completed',
      at: deps.now(),
      nodeId: effect.nodeId,
      seq: effect.seq,
      output: result.output,
      data,
      ...(result.set ? { set: result.set } : {}),
    },
  };
}
