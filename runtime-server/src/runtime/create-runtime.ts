import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RUN_LIMITS, type Catalogue, type InboundMessage, type JsonObject } from '@convoflow/engine';
import type { ChannelRegistry } from '../channels/channel-port.js';
import type { Scheduler } from '../scheduler/scheduler-port.js';
import type {
  ContactAnnouncement,
  ContactChannelIdentity,
  ConversationMessage,
  JournalEntry,
  RunRecord,
  StoragePort,
  Workspace,
} from '../storage/storage-port.js';
import { runEffect } from '../effects/run-effects.js';
import { CommitBatch } from './commit-batch.js';
import { EventProcessor } from './event-processor.js';
import { FlowCache } from './flow-cache.js';
import { ActiveFlows } from './active-flows.js';
import { contactOrderingKey, newId } from './ids.js';
import { toStored, type JournalPayloadKind, type PayloadByKind } from './journal-payloads.js';
import type { Accepted, MessageStored, RuntimePort, SimulatorOutbound } from './runtime-port.js';
import { WorkLoop } from './work-loop.js';
import { DEFAULT_EFFECT_LANES, EffectExecutor, type EffectLane, type EffectType } from './effect-executor.js';
import { MessageWatcher } from './message-watcher.js';
import { ExpiringCache } from '../support/expiring-cache.js';
import { isTransientStorageError } from '../storage/errors.js';
import { throttledWarning } from '../support/throttled-warning.js';

export interface RuntimeOptions {
  store: StoragePort;
  catalogue: Catalogue;
  scheduler: Scheduler;
  channels: ChannelRegistry;
  fetch: typeof fetch;
  /** Lease owner id of this process; random by default. */
  owner?: string;
  now?: () => number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string, data?: JsonObject) => void;
  /** How long a lease on a contact's events or an effect lasts without renewal. */
  leaseMs?: number;
  /** How often to look for work, and for replies to waiting readers, written by other processes. */
  pollMs?: number;
  /** Ordering keys processed per journal tick and effects claimed per outbox tick. */
  batchSize?: number;
  /** How long a channel adapter's send is waited for before it is tried again (30 s). */
  sendTimeoutMs?: number;
  /** How long a custom node's `execute` is waited for before the node fails (60 s). */
  nodeTimeoutMs?: number;
  /** Pools of effect slots by effect type; DEFAULT_EFFECT_LANES unless given. */
  effectLanes?: readonly EffectLane[];
  /** How many nodes the compiled flow versions kept in memory may have together (see FlowCache). */
  compiledFlowNodes?: number;
  /** Steps a run may take before it is failed with TOO_MANY_STEPS; RUN_LIMITS.maxSteps unless given. */
  maxRunSteps?: number;
  hooks?: {
    onRunEnded?(run: RunRecord): void;
    onEffect?(type: string, ok: boolean): void;
    onInbound?(kind: string): void;
    /** Work was put off because the store could not be used (full, locked, unreachable). */
    onStoreUnavailable?(work: 'journal' | 'effects'): void;
    /** An inbound event's processing failed for good: its journal entry is marked failed. */
    onJournalFailed?(kind: string): void;
  };
}

/** Pending entries of one ordering key read per query. */
const KEY_BATCH = 32;
/** Channel identities whose contact id is kept (~200 bytes each); the map is cleared when full. */
const CONTACT_ID_CACHE = 10_000;

const cronId = (workspaceId: string, flowId: string, triggerId: string): string => `${workspaceId}/${flowId}/${triggerId}`;

/** The durable runtime: journal workers, effect executor and the RuntimePort the API uses. */
export interface Runtime extends RuntimePort {
  start(): Promise<void>;
  /** Stops taking work and waits for what is in flight (graceful shutdown). */
  stop(): Promise<void>;
  readonly owner: string;
  /** Each effect lane's slots and how many are taken now (for /metrics). */
  effectLanes(): Array<{ name: string; slots: number; inFlight: number }>;
}

/**
 * Builds the runtime over a store, scheduler and channels. Nothing runs until `start()`.
 *
 * @example
 * const runtime = createRuntime({ store, catalogue: builtinCatalogue, scheduler, channels, fetch });
 * await runtime.start();
 */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { store, scheduler } = options;
  const owner = options.owner ?? `proc_${randomUUID().slice(0, 8)}`;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const leaseMs = options.leaseMs ?? 30_000;
  const batchSize = options.batchSize ?? 64;
  const flows = new FlowCache(store, options.catalogue, options.compiledFlowNodes);
  const activeFlows = new ActiveFlows(store);
  // Settings change rarely and every message reads them.
  const workspaces = new ExpiringCache<string, Workspace>(1_000);
  const workspace = (id: string) => workspaces.get(id, (key) => store.workspaces.get(key));
  // A channel identity belongs to one contact for good (contacts are never deleted or re-keyed):
  // every inbound message and transcript read resolves one, so the answer is kept.
  const contactIds = new Map<string, string>();
  const identityKey = (workspaceId: string, channel: string, externalId: string) => `${workspaceId}\u0000${channel}\u0000${externalId}`;
  const rememberContact = (key: string, contactId: string) => {
    if (contactIds.size >= CONTACT_ID_CACHE) contactIds.clear();
    contactIds.set(key, contactId);
  };
  const stored = new EventEmitter<{ message: [MessageStored] }>();
  // One listener per waiting long poll: hundreds may wait at once.
  stored.setMaxListeners(0);
  const announce = (message: Omit<ConversationMessage, 'seq'> & { seq?: number }, to: ContactChannelIdentity) =>
    stored.emit('message', {
      workspaceId: message.workspaceId,
      contactId: message.contactId,
      channel: message.channel,
      externalId: to.externalId,
      ...(message.seq === undefined ? {} : { seq: message.seq }),
    });
  // Replies other processes store reach this process's waiters through the store.
  const watcher = new MessageWatcher(
    store,
    options.pollMs ?? 200,
    (event) => stored.emit('message', event),
    (err) => log('warn', 'watching for messages failed', { error: String(err) }),
  );
  // The types of effects commits put in the outbox since the lanes were last woken: only their lanes
  // are woken for them.
  const effectsQueued = new Set<EffectType>();
  const processor = new EventProcessor({
    store,
    flows,
    activeFlows,
    workspace,
    catalogue: options.catalogue,
    channels: options.channels,
    owner,
    now,
    maxRunSteps: options.maxRunSteps ?? RUN_LIMITS.maxSteps,
    ...(options.hooks?.onRunEnded ? { onRunEnded: options.hooks.onRunEnded } : {}),
    onEffectsQueued: (queued) => {
      for (const effect of queued) effectsQueued.add(effect.type);
    },
    onRecordedSend: (message, to) => {
      options.hooks?.onEffect?.('sendMessage', true);
      announce(message, to);
    },
  });
  const effectDeps = {
    store,
    onMessageStored: announce,
    catalogue: options.catalogue,
    channels: options.channels,
    scheduler,
    now,
    fetch: options.fetch,
    log,
    ...(options.sendTimeoutMs === undefined ? {} : { sendTimeoutMs: options.sendTimeoutMs }),
    ...(options.nodeTimeoutMs === undefined ? {} : { nodeTimeoutMs: options.nodeTimeoutMs }),
    onStoreUnavailable: (error: Error) => waitingEffects({}, error),
    get stopping() {
      return stopping.signal;
    },
  };
  /** Aborted by stop(): effects then stop waiting for a store that cannot write. */
  let stopping = new AbortController();

  /** Counts every time work is put off (the metric); the warning says so at most every 10 s. */
  const putOff =
    (work: 'journal' | 'effects', warn: (about: JsonObject, error: Error) => void) =>
    (about: JsonObject, error: Error): void => {
      options.hooks?.onStoreUnavailable?.(work);
      warn(about, error);
    };
  const deferredEntries = putOff('journal', throttledWarning('journal entries deferred: the store cannot write now; they stay pending and are retried', now, log));
  const deferredEffects = putOff('effects', throttledWarning('effects deferred: the store cannot be used now; they are taken up again once it can', now, log));
  const waitingEffects = putOff('effects', throttledWarning('effects waiting for the store: it cannot be used now; each carries on once it can', now, log));

  /**
   * One journal tick: leases the ordering keys that have pending entries, then works through them
   * in rounds, one entry per key per round, committing each round's steps in one transaction.
   * Entries of one key stay in order and see each other's commits (a round is written before the
   * next starts); keys are independent, so a round may hold one entry of each.
   */
  const journalTick = async (): Promise<number> => {
    const heads = await store.journal.nextPending(batchSize, now());
    if (heads.length === 0) return 0;
    const keys = await store.leases.acquireMany(heads.map((h) => h.orderingKey), owner, now(), now() + leaseMs);
    let processed = 0;
    const released = new Set<string>();
    try {
      const queues = new Map<string, { entries: JournalEntry[]; more: boolean }>();
      const pending = await store.journal.pendingForKeys(keys, KEY_BATCH);
      for (const key of keys) {
        const entries = pending.get(key) ?? [];
        queues.set(key, { entries, more: entries.length === KEY_BATCH });
      }
      for (let round = 1; queues.size > 0; round += 1) {
        const batch = new CommitBatch(store);
        const taken: Array<{ key: string; entry: JournalEntry }> = [];
        for (const [key, queue] of queues) {
          if (queue.entries.length === 0 && queue.more) {
            queue.entries = await store.journal.pendingForKey(key, KEY_BATCH);
            queue.more = queue.entries.length === KEY_BATCH;
          }
          const entry = queue.entries.shift();
          if (!entry) {
            // A short read was all there was: entries appended since are found by the next tick
            // (whoever appends wakes the loop), which saves a query per key in the common case.
            queues.delete(key);
            continue;
          }
          taken.push({ key, entry });
          try {
            await processor.process(entry, { key, owner, commits: batch });
            // The key's last entry this tick: its last commit lets the lease go.
            if (queue.entries.length === 0 && !queue.more) batch.releaseWithLastOf(entry.id);
          } catch (err) {
            batch.fail(entry.id, err);
          }
        }
        await batch.flush();
        for (const key of batch.releasedKeys) {
          released.add(key);
          queues.delete(key); // done with it: never renewed below
        }
        for (const { key, entry } of taken) {
          processed += 1;
          const error = batch.failureOf(entry.id);
          if (!error) continue;
          if ((error as { code?: unknown }).code === 'LEASE_LOST') {
            // Another process holds the key now: it continues from what was committed.
            queues.delete(key);
            continue;
          }
          if (isTransientStorageError(error)) {
            // The store cannot write now (disk full, locked, unreachable). The entry was
            // acknowledged, so it stays pending and a later tick takes it again; nothing after it
            // on this key runs before it.
            queues.delete(key);
            deferredEntries({ journalId: entry.id }, error);
            continue;
          }
          log('error', 'journal entry failed', { journalId: entry.id, kind: entry.kind, error: error.message });
          await store.journal.markFailed(entry.id, error.message, now());
          options.hooks?.onJournalFailed?.(entry.kind);
        }
        if (effectsQueued.size > 0) {
          effects.wake(effectsQueued);
          effectsQueued.clear();
        }
        // Keep the leases alive through a long backlog.
        if (round % 16 === 0 && queues.size > 0) {
          const renewed = new Set(await store.leases.acquireMany([...queues.keys()], owner, now(), now() + leaseMs));
          for (const key of queues.keys()) if (!renewed.has(key)) queues.delete(key);
        }
        // Store calls resolve as microtasks: without a real yield, HTTP waits for the whole tick.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      const held = keys.filter((key) => !released.has(key));
      if (held.length > 0) await store.leases.releaseMany(held, owner);
    }
    // A short batch was every key there was to take: sleep until woken (appends, effect
    // outcomes) or the poll, instead of asking again at once.
    return heads.length < batchSize ? 0 : processed;
  };

  // A store that cannot write fails whole ticks (leases, claims) while it lasts: reported as the
  // work it puts off, not as an error per poll.
  const journalLoop = new WorkLoop(journalTick, options.pollMs ?? 200, (err) =>
    isTransientStorageError(err) ? deferredEntries({}, err as Error) : log('error', 'journal loop failed', { error: String(err) }),
  );

  const effects = new EffectExecutor({
    store,
    owner,
    lanes: options.effectLanes ?? DEFAULT_EFFECT_LANES,
    batchSize,
    leaseMs,
    pollMs: options.pollMs ?? 200,
    now,
    perform: (entry) =>
      runEffect(effectDeps, entry)
        .then(() => options.hooks?.onEffect?.(entry.effect.type, true))
        .catch((err: unknown) => {
          // The runtime is stopping while the effect waits for the store: put off, not failed,
          // and performed after the restart.
          if (isTransientStorageError(err)) return deferredEffects({ runId: entry.runId, seq: entry.seq }, err as Error);
          options.hooks?.onEffect?.(entry.effect.type, false);
          log('error', 'effect failed', { runId: entry.runId, seq: entry.seq, error: String(err) });
        }),
    onTickError: (err) =>
      isTransientStorageError(err) ? deferredEffects({}, err as Error) : log('error', 'effect loop failed', { error: String(err) }),
    onRenewError: (err) =>
      isTransientStorageError(err) ? deferredEffects({}, err as Error) : log('error', 'effect lease renewal failed', { error: String(err) }),
    onFinished: () => journalLoop.wake(),
  });

  const journal = async <K extends JournalPayloadKind>(
    workspaceId: string,
    kind: K,
    dedupeKey: string,
    orderingKey: string,
    payload: PayloadByKind[K],
  ): Promise<Accepted> => {
    const { inserted, entry } = await store.journal.append({
      id: newId('jrn'),
      workspaceId,
      kind,
      dedupeKey,
      orderingKey,
      payload: toStored(kind, payload),
      receivedAt: now(),
    });
    if (inserted) {
      options.hooks?.onInbound?.(kind);
      journalLoop.wake();
    }
    return { accepted: inserted, journalId: entry.id };
  };

  /**
   * The announcement of a contact created or changed, for the store to write with the change (so
   * neither is ever written without the other); `announced` then counts and wakes as `journal` does.
   */
  const contactAnnouncement =
    (created: boolean): ContactAnnouncement =>
    (contact, changedFields) => ({
      id: newId('jrn'),
      workspaceId: contact.workspaceId,
      kind: 'contact',
      dedupeKey: created ? `contact:${contact.id}:created` : `contact:${contact.id}:${newId('chg')}`,
      orderingKey: contactOrderingKey(contact.workspaceId, contact.id),
      payload: toStored('contact', { contactId: contact.id, created, changedFields }),
      receivedAt: now(),
    });
  const announced = () => {
    options.hooks?.onInbound?.('contact');
    journalLoop.wake();
  };

  const requireWorkspace = async (workspaceId: string) => {
    const found = await workspace(workspaceId);
    if (!found) throw new Error(`Workspace ${workspaceId} does not exist`);
    return found;
  };

  // Waits in real time whatever clock the runtime was given: a frozen test clock must not hang it.
  const awaitRun = async (workspaceId: string, runId: string, done: (run: RunRecord) => boolean, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await store.runs.get(workspaceId, runId);
      if (!run) throw new Error(`Run ${runId} does not exist`);
      if (done(run) || Date.now() > deadline) return run;
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  /**
   * Registers the schedules of a flow's active version with the scheduler, and removes those of
   * `previousVersion` (rolled back, replaced, or the flow deleted) that it no longer has: only the
   * active version's schedules are ever registered. Only these two versions are read: going
   * through every flow of the workspace made each publish hold the event loop for ~140 ms with
   * 1,000 flows, and every version of the flow 243 ms with 100 versions of 1,000 nodes. A cron
   * left behind all the same (a crash between a publish and this) cancels itself when it fires.
   */
  const syncFlowSchedules = async (
    workspaceId: string,
    flowId: string,
    previousVersion: number | undefined,
    activeVersion: number | undefined,
  ): Promise<void> => {
    const schedulesOf = async (version: number | undefined) =>
      version === undefined ? [] : ((await store.flows.getVersion(workspaceId, flowId, version))?.definition.triggers.filter((t) => t.type === 'schedule') ?? []);
    const schedules = await schedulesOf(activeVersion);
    const wanted = new Set(schedules.map((t) => t.id));
    for (const trigger of previousVersion === activeVersion ? [] : await schedulesOf(previousVersion)) {
      if (!wanted.has(trigger.id)) await scheduler.cancelCron(cronId(workspaceId, flowId, trigger.id));
    }
    for (const trigger of schedules) {
      const { cron, timezone } = trigger.params as { cron: string; timezone?: string };
      try {
        await scheduler.scheduleCron({
          id: cronId(workspaceId, flowId, trigger.id),
          cron,
          timezone: timezone ?? 'UTC',
          payload: { workspaceId, flowId, triggerId: trigger.id },
        });
      } catch (err) {
        // The validator refuses such schedules now; one a version published before carries must
        // not keep the other schedules from being registered.
        if (!(err instanceof TypeError)) throw err;
        log('error', 'schedule not registered', { workspaceId, flowId, version: activeVersion ?? null, triggerId: trigger.id, error: err.message });
      }
    }
  };

  const systemContact = async (workspaceId: string) =>
    (await store.contacts.upsertByIdentity(workspaceId, { channel: 'system', externalId: 'scheduler' }, { name: 'Scheduler' }, now()))
      .contact;

  scheduler.onTimer(async (timer) => {
    if (timer.kind === 'cron') {
      const p = timer.payload as { workspaceId: string; flowId: string; triggerId: string };
      const { versions } = await activeFlows.triggers(p.workspaceId);
      const stillScheduled = versions.some(
        (v) => v.flowId === p.flowId && v.triggers.some((t) => t.id === p.triggerId && t.type === 'schedule'),
      );
      if (!stillScheduled) {
        // The flow was unpublished or its trigger removed since this cron was registered.
        await scheduler.cancelCron(timer.cronId);
        return;
      }
      const contact = await systemContact(p.workspaceId);
      await journal(p.workspaceId, 'schedule', `cron:${timer.cronId}:${timer.dueAt}`, contactOrderingKey(p.workspaceId, contact.id), {
        flowId: p.flowId,
        triggerId: p.triggerId,
        contactId: contact.id,
        occurrence: timer.dueAt,
      });
      return;
    }
    const p = timer.payload as { workspaceId: string; runId: string; contactId: string; timerId: string; dueAt: number };
    await journal(p.workspaceId, 'timer', `timer:${p.runId}:${p.timerId}`, contactOrderingKey(p.workspaceId, p.contactId), {
      runId: p.runId,
      timerId: p.timerId,
      dueAt: p.dueAt,
    });
  });

  return {
    owner,
    effectLanes: () => effects.lanes(),
    async start() {
      if (stopping.signal.aborted) stopping = new AbortController();
      for (const workspace of await store.workspaces.list()) {
        activeFlows.invalidate(workspace.id);
        // The list names each flow's active version: no draft is read at start.
        for (const flow of await store.flows.list(workspace.id)) await syncFlowSchedules(workspace.id, flow.id, flow.activeVersion, flow.activeVersion);
      }
      journalLoop.start();
      effects.start();
      await scheduler.start();
    },
    async stop() {
      watcher.close();
      await scheduler.stop();
      await journalLoop.stop();
      // First: a lane whose every slot waits for a store that cannot write would otherwise hold
      // stopClaiming (its tick waits for a free slot) until the store came back.
      stopping.abort();
      await effects.stopClaiming();
      await effects.drain();
    },

    async receiveMessage(workspaceId, message: InboundMessage, profile) {
      await requireWorkspace(workspaceId);
      const key = identityKey(workspaceId, message.channel, message.from);
      let contactId = contactIds.get(key);
      if (contactId === undefined) {
        const { contact, created } = await store.contacts.upsertByIdentity(
          workspaceId,
          { channel: message.channel, externalId: message.from },
          profile?.name ? { name: profile.name } : {},
          now(),
          contactAnnouncement(true),
        );
        contactId = contact.id;
        if (created) announced();
        rememberContact(key, contactId);
      }
      return journal(workspaceId, 'message', `msg:${message.channel}:${message.id}`, contactOrderingKey(workspaceId, contactId), {
        contactId,
        message,
      });
    },

    async startByApi(workspaceId, flowId, input) {
      const dedupe = input.idempotencyKey ? `api:${flowId}:${input.idempotencyKey}` : `api:${newId('req')}`;
      return journal(workspaceId, 'api', dedupe, contactOrderingKey(workspaceId, input.contactId), {
        flowId,
        contactId: input.contactId,
        vars: input.vars ?? {},
      });
    },

    async receiveWebhook(workspaceId, flowId, triggerId, input) {
      const dedupe = input.idempotencyKey ? `hook:${flowId}:${triggerId}:${input.idempotencyKey}` : `hook:${newId('req')}`;
      // A webhook that names no contact runs as the workspace's system contact, like a schedule.
      const contactId = input.contactId ?? (await systemContact(workspaceId)).id;
      return journal(workspaceId, 'webhook', dedupe, contactOrderingKey(workspaceId, contactId), {
        flowId,
        triggerId,
        contactId,
        body: input.body,
      });
    },

    async createContact(workspaceId, fields, identities, at = now()) {
      const contact = await store.contacts.create(workspaceId, fields, identities, at, contactAnnouncement(true));
      announced();
      return contact;
    },

    async updateContact(workspaceId, contactId, fields, at = now()) {
      const result = await store.contacts.update(workspaceId, contactId, fields, at, contactAnnouncement(false));
      if (result && result.changed.length > 0) announced();
      return result;
    },

    async contactChanged(workspaceId, contactId, change) {
      return journal(workspaceId, 'contact', `contact:${contactId}:${newId('chg')}`, contactOrderingKey(workspaceId, contactId), {
        contactId,
        created: change.created,
        changedFields: change.changedFields,
      });
    },

    async flowChanged(workspaceId, flowId, previousVersion) {
      activeFlows.invalidate(workspaceId);
      const flow = await store.flows.get(workspaceId, flowId);
      await syncFlowSchedules(workspaceId, flowId, previousVersion, flow?.activeVersion);
    },

    workspaceChanged(workspaceId) {
      workspaces.invalidate(workspaceId);
    },

    async cancelRun(workspaceId, runId, reason) {
      const run = await store.runs.get(workspaceId, runId);
      if (!run) throw new Error(`Run ${runId} does not exist`);
      await journal(workspaceId, 'control', `control:${runId}:cancel`, contactOrderingKey(workspaceId, run.contactId), {
        runId,
        action: 'cancel',
        reason,
      });
      return awaitRun(workspaceId, runId, (r) => r.status === 'cancelled' || r.status === 'done' || r.status === 'failed');
    },

    async retryRun(workspaceId, runId) {
      const run = await store.runs.get(workspaceId, runId);
      if (!run) throw new Error(`Run ${runId} does not exist`);
      if (run.status !== 'failed') throw new Error(`Run ${runId} is ${run.status}; only a failed run can be retried`);
      await journal(workspaceId, 'control', `control:${runId}:retry:${run.stepCount}`, contactOrderingKey(workspaceId, run.contactId), {
        runId,
        action: 'retry',
      });
      return awaitRun(workspaceId, runId, (r) => r.stepCount > run.stepCount);
    },

    async simulatorTranscript(workspaceId, contactExternalId, afterSeq): Promise<SimulatorOutbound[]> {
      const key = identityKey(workspaceId, 'simulator', contactExternalId);
      let contactId = contactIds.get(key);
      if (contactId === undefined) {
        const contact = await store.contacts.findByIdentity(workspaceId, { channel: 'simulator', externalId: contactExternalId });
        if (!contact) return [];
        contactId = contact.id;
        rememberContact(key, contactId);
      }
      const messages = await store.messages.list(workspaceId, contactId, {
        direction: 'outbound',
        ...(afterSeq === undefined ? {} : { afterSeq }),
      });
      return messages.map((m) => ({
        seq: m.seq,
        runId: m.runId ?? '',
        nodeId: m.nodeId ?? '',
        message: m.message as unknown as SimulatorOutbound['message'],
        at: m.at,
      }));
    },

    onMessageStored(listener) {
      stored.on('message', listener);
      const release = watcher.retain();
      return () => {
        stored.off('message', listener);
        release();
      };
    },

    async idle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [journalPending, outboxPending] = await Promise.all([store.journal.countPending(), store.outbox.countPending()]);
        if (journalPending === 0 && outboxPending === 0 && effects.inFlight === 0) return;
        if (Date.now() > deadline) throw new Error(`Runtime not idle after ${timeoutMs} ms (${journalPending} events, ${outboxPending} effects pending)`);
        journalLoop.wake();
        effects.wake();
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}
