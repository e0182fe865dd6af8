import {
  EVENT,
  formatCount,
  idempotencyKey,
  retry,
  runAborted,
  runCancelled,
  messageReceived,
  timerFired,
  start,
  step,
  type Catalogue,
  type Effect,
  type FlowEvent,
  type JsonObject,
  type StepResult,
} from '@convoflow/engine';
import type { ChannelRegistry } from '../channels/channel-port.js';
import { outboundRecord, recipientOf, sendCompleted } from '../effects/send-record.js';
import type {
  ContactChannelIdentity,
  ContactRecord,
  ConversationMessage,
  FlowVersionRecord,
  JournalEntry,
  RunRecord,
  StepCommit,
  StoragePort,
  StoredRunStatus,
  Workspace,
} from '../storage/storage-port.js';
import type { CommitBatch } from './commit-batch.js';
import type { FlowCache } from './flow-cache.js';
import type { ActiveFlows } from './active-flows.js';
import { asPayload } from './journal-payloads.js';
import { deriveRunId } from './ids.js';
import { foldText, type TriggerOccasion } from '../triggers/match-triggers.js';
import type { ActiveVersion, TriggerMatch } from '../triggers/trigger-index.js';
import { TOO_MANY_STEPS } from './runtime-port.js';

/** Everything the processor needs; it holds no state of its own between entries. */
export interface EventProcessorDeps {
  store: StoragePort;
  flows: FlowCache;
  activeFlows: ActiveFlows;
  /** The workspace by id (read for every message: cached by the runtime). */
  workspace(id: string): Promise<Workspace | undefined>;
  catalogue: Catalogue;
  /** This process's lease owner id. */
  owner: string;
  now(): number;
  /** Channels by id: a send on one that delivers by recording is recorded with its step. */
  channels: ChannelRegistry;
  onRunEnded?(run: RunRecord): void;
  /** A commit that put these effects in the outbox landed. */
  onEffectsQueued?(effects: readonly Effect[]): void;
  /** A send recorded with its step landed. */
  onRecordedSend?(message: Omit<ConversationMessage, 'seq'>, to: ContactChannelIdentity): void;
  /** Steps a run may take before it is failed with TOO_MANY_STEPS (RUN_LIMITS.maxSteps). */
  maxRunSteps: number;
}

/**
 * Steps one commit may take by itself (each recorded send and its outcome is one): a flow that
 * loops on sends must still commit now and then, and hands the rest to the effect executor.
 */
const MAX_STEPS_PER_COMMIT = 16;

/**
 * The caller holds the lease of the entry's ordering key until the batch is flushed; the entry's
 * commits go into the batch, which the caller writes.
 */
export interface LeaseHeld {
  key: string;
  owner: string;
  commits: CommitBatch;
}

/** The lease plus what processing one entry carries from step to step. */
interface EntryContext extends LeaseHeld {
  entryId: string;
  /** An inbound message not stored yet: the first commit made for the entry stores it. */
  pendingMessage?: Omit<ConversationMessage, 'seq'>;
  /** The entry's contact, once read. */
  contact?: ContactRecord;
}

const ENDED: ReadonlySet<StoredRunStatus> = new Set(['done', 'failed', 'cancelled']);

/**
 * Processes one journal entry: delivers it to the run waiting for it or starts the runs whose
 * triggers match, committing each step (snapshot, step log, effects, consumed entry) atomically
 * through the caller's batch.
 *
 * Reprocessing an entry after a crash is harmless: run ids derive from the entry, and a step
 * whose effects were already committed is recognised by the run's step count.
 */
export class EventProcessor {
  constructor(private readonly deps: EventProcessorDeps) {}

  async process(entry: JournalEntry, lease: LeaseHeld): Promise<void> {
    const context: EntryContext = { ...lease, entryId: entry.id };
    const committed = await this.dispatch(entry, context);
    if (committed) return;
    // No step was committed for it (nothing matched): the message is still part of the conversation.
    if (context.pendingMessage) await this.deps.store.messages.append(context.pendingMessage);
    await this.deps.store.journal.markProcessed(entry.id, this.deps.now());
  }

  /** @returns whether a commit consumed (marked processed) the entry. */
  private async dispatch(entry: JournalEntry, lease: EntryContext): Promise<boolean> {
    const { store } = this.deps;
    switch (entry.kind) {
      case 'message':
        return this.onMessage(entry, lease);
      case 'api': {
        const p = asPayload('api', entry.payload);
        return this.startMatching(entry, lease, { kind: 'api', flowId: p.flowId }, p.contactId, { api: p.vars }, p.vars);
      }
      case 'webhook': {
        const p = asPayload('webhook', entry.payload);
        return this.startMatching(entry, lease, { kind: 'webhook', flowId: p.flowId, triggerId: p.triggerId }, p.contactId, { webhook: p.body });
      }
      case 'contact': {
        const p = asPayload('contact', entry.payload);
        return this.startMatching(
          entry,
          lease,
          { kind: 'contact', created: p.created, changedFields: p.changedFields },
          p.contactId,
          { contact: { created: p.created, changedFields: p.changedFields } },
        );
      }
      case 'schedule': {
        const p = asPayload('schedule', entry.payload);
        return this.startMatching(
          entry,
          lease,
          { kind: 'schedule', flowId: p.flowId, triggerId: p.triggerId },
          p.contactId,
          { schedule: { occurrence: p.occurrence } },
        );
      }
      case 'timer': {
        const p = asPayload('timer', entry.payload);
        const run = await store.runs.get(entry.workspaceId, p.runId);
        if (!run) return false;
        return this.stepRun(run, timerFired(p.timerId, this.deps.now()), entry, lease, true);
      }
      case 'effect': {
        const p = asPayload('effect', entry.payload);
        const run = await store.runs.get(entry.workspaceId, p.runId);
        if (!run) return false;
        return this.stepRun(run, { ...p.event, at: this.deps.now() } as FlowEvent, entry, lease, true);
      }
      case 'control': {
        const p = asPayload('control', entry.payload);
        const run = await store.runs.get(entry.workspaceId, p.runId);
        if (!run) return false;
        if (p.action === 'retry') return this.retryRun(run, entry, lease);
        return this.stepRun(run, runCancelled(p.reason ?? 'cancelled', this.deps.now()), entry, lease, true);
      }
    }
  }

  private async onMessage(entry: JournalEntry, lease: EntryContext): Promise<boolean> {
    const { store } = this.deps;
    const p = asPayload('message', entry.payload);
    const workspace = await this.deps.workspace(entry.workspaceId);
    if (!workspace) return false;
    // Stored by the first step committed for this entry, before any effect of it can run, so the
    // conversation keeps its order; see `process` for an entry that commits nothing.
    lease.pendingMessage = {
      workspaceId: entry.workspaceId,
      contactId: p.contactId,
      channel: p.message.channel,
      direction: 'inbound',
      message: p.message as unknown as JsonObject,
      idempotencyKey: entry.dedupeKey,
      at: p.message.sentAt,
    };
    let active = await store.runs.listActiveForContact(entry.workspaceId, p.contactId);
    const interrupted = isInterrupt(workspace, p.message.text);

    if (interrupted) {
      for (const run of active) {
        const version = await store.flows.getVersion(run.workspaceId, run.flowId, run.flowVersion);
        if (!version?.definition.settings.honourInterruptKeywords) continue;
        await this.stepRun(run, runCancelled(`interrupt keyword "${p.message.text ?? ''}"`, this.deps.now()), undefined, lease, false);
      }
      await lease.commits.flush();
      active = await store.runs.listActiveForContact(entry.workspaceId, p.contactId);
    }

    const occasion: TriggerOccasion = { kind: 'message', message: p.message };
    const all = (await this.deps.activeFlows.triggers(entry.workspaceId)).match(occasion);
    // An interrupt keyword ends the conversation or redirects it to a flow that names the keyword;
    // it never starts a catch-all flow ("STOP" must not be answered by "How can I help?").
    const matches = interrupted ? all.filter((m) => m.trigger.type === 'keyword') : all;
    const waiting = [...active].reverse().find((r) => r.status === 'waiting' && r.waiting?.for === 'reply');

    if (waiting) {
      const restart = matches.find(
        (m) => m.version.flowId === waiting.flowId && m.version.settings.onWaitingRunExpired === 'restart',
      );
      if (!restart) {
        return this.stepRun(waiting, messageReceived(p.message, this.deps.now()), entry, lease, true);
      }
      // The flow asks that a new trigger restarts it: the waiting run ends and a fresh one starts.
      await this.stepRun(waiting, runCancelled('restarted by a new trigger', this.deps.now()), undefined, lease, false);
      await lease.commits.flush();
      active = await store.runs.listActiveForContact(entry.workspaceId, p.contactId);
    }

    const contact = await this.contactOf(lease, entry.workspaceId, p.contactId);
    if (!contact) return false;
    return this.startRuns(entry, lease, matches, contact, active, { message: p.message as unknown as JsonObject }, undefined, p.message.channel);
  }

  private async startMatching(
    entry: JournalEntry,
    lease: EntryContext,
    occasion: TriggerOccasion,
    contactId: string,
    trigger: JsonObject,
    vars?: JsonObject,
  ): Promise<boolean> {
    const { store } = this.deps;
    const contact = await this.contactOf(lease, entry.workspaceId, contactId);
    if (!contact) return false;
    const matches = (await this.deps.activeFlows.triggers(entry.workspaceId)).match(occasion);
    const active = await store.runs.listActiveForContact(entry.workspaceId, contactId);
    return this.startRuns(entry, lease, matches, contact, active, trigger, vars, undefined);
  }

  private async startRuns(
    entry: JournalEntry,
    lease: EntryContext,
    matches: TriggerMatch[],
    contact: ContactRecord,
    active: RunRecord[],
    trigger: JsonObject,
    vars: JsonObject | undefined,
    channel: string | undefined,
  ): Promise<boolean> {
    const starts = matches.filter(
      (m) => !(m.trigger.oneActiveRunPerContact && active.some((r) => r.flowId === m.version.flowId)),
    );
    let committed = false;
    for (const [i, match] of starts.entries()) {
      const last = i === starts.length - 1;
      committed = (await this.startRun(entry, lease, match.version, match.trigger.id, contact, trigger, vars, channel, last)) || committed;
    }
    return committed;
  }

  private async startRun(
    entry: JournalEntry,
    lease: EntryContext,
    version: ActiveVersion,
    triggerId: string,
    contact: ContactRecord,
    trigger: JsonObject,
    vars: JsonObject | undefined,
    channel: string | undefined,
    consumesEntry: boolean,
  ): Promise<boolean> {
    const { store, now } = this.deps;
    const runId = deriveRunId(entry.id, version.flowId, triggerId);
    if (await store.runs.get(entry.workspaceId, runId)) return false;
    const compiled = await this.deps.flows.get(version.workspaceId, version.flowId, version.version);
    const at = now();
    const result = start(compiled, {
      runId,
      at,
      trigger: { ...trigger, triggerId, flowId: version.flowId },
      contact: { ...contact.fields, id: contact.id },
      ...(vars ? { vars } : {}),
    });
    const run: RunRecord = {
      id: runId,
      workspaceId: entry.workspaceId,
      flowId: version.flowId,
      flowVersion: version.version,
      contactId: contact.id,
      triggerId,
      ...(channel ? { channel } : {}),
      status: 'running',
      snapshot: result.snapshot,
      stepCount: 0,
      createdAt: at,
      updatedAt: at,
    };
    await this.commit(run, true, result, 'run.started', consumesEntry ? entry : undefined, lease);
    return consumesEntry;
  }

  /**
   * Steps an existing run with an event and commits the result. An event the run ignores
   * (a duplicate outcome, a timer already cancelled) commits nothing.
   */
  private async stepRun(
    run: RunRecord,
    event: FlowEvent,
    entry: JournalEntry | undefined,
    lease: EntryContext,
    consumesEntry: boolean,
  ): Promise<boolean> {
    if (ENDED.has(run.status)) return false;
    const compiled = await this.deps.flows.get(run.workspaceId, run.flowId, run.flowVersion);
    const stepped = (event.type === EVENT.runCancelled ? undefined : this.overLimit(run)) ?? event;
    const result = step(compiled, run.snapshot, stepped);
    if (result.ignored) return false;
    await this.commit(run, false, result, stepped.type, consumesEntry ? entry : undefined, lease);
    return consumesEntry && entry !== undefined;
  }

  /**
   * The event that ends a run which has taken every step a run may. A loop through an action or a
   * delay is valid, and one that never ends would call its remote, or grow its step log, for
   * ever: the run fails instead, its timers cancelled. Cancelling it is still a cancel.
   */
  private overLimit(run: RunRecord): FlowEvent | undefined {
    const { maxRunSteps } = this.deps;
    if (run.stepCount < maxRunSteps) return undefined;
    const message = `the run took ${formatCount(run.stepCount)} steps, and a run may take ${formatCount(maxRunSteps)}: its flow seems to loop without end`;
    return runAborted({ code: TOO_MANY_STEPS, message }, this.deps.now());
  }

  /** Re-enters the node a failed run failed in; a run that is not failed (any more) is left alone. */
  private async retryRun(run: RunRecord, entry: JournalEntry, lease: EntryContext): Promise<boolean> {
    if (run.status !== 'failed') return false;
    const version = await this.deps.store.flows.getVersion(run.workspaceId, run.flowId, run.flowVersion);
    if (!version) return false;
    const result = retry(version.definition, this.deps.catalogue, run.snapshot, this.deps.now());
    await this.commit(run, false, result, 'run.retried', entry, lease);
    return true;
  }

  /**
   * Commits a step: the run's new state, its step log, its effects and the consumed entry, in one
   * transaction (the caller's batch). Sends on a channel that delivers by recording are recorded
   * here instead of going to the outbox, and the run is carried on with their outcome first, so a
   * flow that answers on the simulator commits once per message, not twice.
   */
  private async commit(
    base: RunRecord,
    isNew: boolean,
    first: StepResult,
    firstEvent: string,
    entry: JournalEntry | undefined,
    lease: EntryContext,
  ): Promise<void> {
    const steps: Array<{ result: StepResult; event: string; at: number }> = [];
    const outbox: Effect[] = [];
    const recorded: Array<{ message: Omit<ConversationMessage, 'seq'>; to: ContactChannelIdentity }> = [];
    const contactChanges: JsonObject = {};
    const outcomes: FlowEvent[] = [];
    let result = first;
    let event = firstEvent;
    for (;;) {
      const at = this.deps.now();
      steps.push({ result, event, at });
      Object.assign(contactChanges, result.contactChanges ?? {});
      for (const effect of result.effects) {
        const to = steps.length < MAX_STEPS_PER_COMMIT ? await this.recordingRecipient(base, effect, lease) : undefined;
        if (!to || effect.type !== 'sendMessage') {
          outbox.push(effect);
          continue;
        }
        recorded.push({ message: outboundRecord(base, to, effect, idempotencyKey(base.id, effect.seq), at), to });
        outcomes.push(sendCompleted(effect, 'sent', {}, at));
      }
      const next = await this.nextOutcome(base, result, outcomes);
      if (!next) break;
      ({ result, event } = next);
    }

    const last = steps[steps.length - 1]!;
    const status = storedStatus(result);
    const failedNodeId = result.status === 'failed' ? (result.error?.nodeId ?? lastNode(result)) : undefined;
    const run: RunRecord = {
      ...base,
      status,
      snapshot: result.snapshot,
      stepCount: base.stepCount + steps.length,
      updatedAt: last.at,
    };
    if (result.waiting) run.waiting = result.waiting;
    else delete run.waiting;
    // A retried run sheds the error of the attempt that failed.
    if (result.error) run.error = result.error;
    else delete run.error;
    if (failedNodeId) run.failedNodeId = failedNodeId;
    else delete run.failedNodeId;
    if (ENDED.has(status)) run.endedAt = last.at;
    else delete run.endedAt;

    const messages = [...(lease.pendingMessage ? [lease.pendingMessage] : []), ...recorded.map((r) => r.message)];
    const commit: StepCommit = {
      run,
      isNew,
      leaseKey: lease.key,
      leaseOwner: lease.owner,
      stepLogs: steps.map((s, i) => ({
        runId: run.id,
        workspaceId: run.workspaceId,
        stepNo: base.stepCount + i,
        at: s.at,
        event: s.event,
        path: s.result.path,
        effects: s.result.effects.map((e) => `${e.type}#${e.seq}`),
        status: storedStatus(s.result),
        ...(s.result.error ? { error: s.result.error } : {}),
      })),
      effects: outbox,
      ...(entry ? { journalEntryId: entry.id } : {}),
      ...(Object.keys(contactChanges).length > 0 ? { contactChanges: { contactId: run.contactId, fields: contactChanges } } : {}),
      ...(messages.length > 0 ? { messages } : {}),
    };
    delete lease.pendingMessage;
    lease.commits.add(commit, lease.entryId, () => {
      for (const r of recorded) this.deps.onRecordedSend?.(r.message, r.to);
      if (outbox.length > 0) this.deps.onEffectsQueued?.(outbox);
      if (ENDED.has(status)) this.deps.onRunEnded?.(run);
    });
  }

  /** Steps the run with the first of `outcomes` it takes; undefined when it takes none. */
  private async nextOutcome(
    run: RunRecord,
    current: StepResult,
    outcomes: FlowEvent[],
  ): Promise<{ result: StepResult; event: string } | undefined> {
    for (let outcome = outcomes.shift(); outcome; outcome = outcomes.shift()) {
      const compiled = await this.deps.flows.get(run.workspaceId, run.flowId, run.flowVersion);
      const result = step(compiled, current.snapshot, outcome);
      if (!result.ignored) return { result, event: outcome.type };
    }
    return undefined;
  }

  /** Where `effect` goes when it is a send on a channel that delivers by recording; else undefined. */
  private async recordingRecipient(run: RunRecord, effect: Effect, lease: EntryContext): Promise<ContactChannelIdentity | undefined> {
    if (effect.type !== 'sendMessage') return undefined;
    const contact = await this.contactOf(lease, run.workspaceId, run.contactId);
    const to = contact && recipientOf(contact, run);
    return to && this.deps.channels.get(to.channel)?.deliveredByRecording ? to : undefined;
  }

  private async contactOf(lease: EntryContext, workspaceId: string, contactId: string): Promise<ContactRecord | undefined> {
    if (lease.contact?.id !== contactId) {
      const contact = await this.deps.store.contacts.get(workspaceId, contactId);
      if (!contact) return undefined;
      lease.contact = contact;
    }
    return lease.contact;
  }
}

function storedStatus(result: StepResult): StoredRunStatus {
  return result.outcome === 'cancelled' ? 'cancelled' : result.status;
}

function lastNode(result: StepResult): string | undefined {
  return result.path[result.path.length - 1]?.nodeId;
}

function isInterrupt(workspace: Workspace, text: string | undefined): boolean {
  if (!text) return false;
  const folded = foldText(text);
  return workspace.settings.interruptKeywords.some((k) => foldText(k) === folded);
}
