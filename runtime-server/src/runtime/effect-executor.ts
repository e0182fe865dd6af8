import { EFFECT_TYPES, type Effect } from '@convoflow/engine';
import type { OutboxEntry, StoragePort, WorkspaceShares } from '../storage/storage-port.js';
import { WorkLoop } from './work-loop.js';

export type EffectType = Effect['type'];

/** A pool of effect slots of its own, for the effect types it names. */
export interface EffectLane {
  /** For logs and errors. */
  name: string;
  types: readonly EffectType[];
  /** Effects of this lane performed at once. */
  concurrency: number;
  /**
   * Of those, the most one workspace may hold (its `concurrency` unless given). Less than
   * `concurrency`, it keeps slots free for other workspaces while one waits on a slow remote.
   */
  perWorkspace?: number;
}

/** The lanes the server runs, by name: their slots are settings (see README). */
export type DefaultLaneName = 'timers' | 'sends' | 'node_calls';

/**
 * Timers are local and take milliseconds; sends and node calls wait on remote systems for up to
 * their timeouts. In one pool, sixteen slow calls to one remote held up every delay's start and
 * every other send. Sends and node calls are apart too: a slow HTTP endpoint a flow calls must not
 * hold up messages to customers.
 *
 * Within a lane, one workspace holds at most `perWorkspace` slots: the lanes that wait on remotes
 * have more slots than that, so one workspace's slow remote (or a broadcast's sends) leaves slots
 * for the others. A workspace alone has as many as before there were shares.
 *
 * @param slots each lane's concurrency: timers 16, sends and node calls 64, unless given
 * @param perWorkspace the slots of a lane one workspace may hold, 16 unless given
 */
export function defaultEffectLanes(slots: Partial<Record<DefaultLaneName, number>> = {}, perWorkspace = 16): EffectLane[] {
  return [
    { name: 'timers', types: ['scheduleTimer', 'cancelTimer'], concurrency: slots.timers ?? 16, perWorkspace },
    { name: 'sends', types: ['sendMessage'], concurrency: slots.sends ?? 64, perWorkspace },
    { name: 'node_calls', types: ['executeNode'], concurrency: slots.node_calls ?? 64, perWorkspace },
  ];
}

export const DEFAULT_EFFECT_LANES: readonly EffectLane[] = defaultEffectLanes();

/**
 * Refuses lanes that would leave an effect type with no slots (its effects would wait forever) or
 * give one type to two lanes (one lane's limit would not hold).
 * @throws TypeError naming the lane and type at fault
 */
export function checkEffectLanes(lanes: readonly EffectLane[]): void {
  const laneOf = new Map<EffectType, string>();
  for (const lane of lanes) {
    if (!Number.isInteger(lane.concurrency) || lane.concurrency < 1) {
      throw new TypeError(`effect lane "${lane.name}": concurrency must be a whole number of at least 1, not ${lane.concurrency}`);
    }
    if (lane.perWorkspace !== undefined && (!Number.isInteger(lane.perWorkspace) || lane.perWorkspace < 1)) {
      throw new TypeError(`effect lane "${lane.name}": perWorkspace must be a whole number of at least 1, not ${lane.perWorkspace}`);
    }
    for (const type of lane.types) {
      if (!EFFECT_TYPES.includes(type)) throw new TypeError(`effect lane "${lane.name}": "${type}" is not an effect type`);
      const taken = laneOf.get(type);
      if (taken !== undefined) throw new TypeError(`effect type "${type}" is in two lanes: "${taken}" and "${lane.name}"`);
      laneOf.set(type, lane.name);
    }
  }
  const missing = EFFECT_TYPES.filter((type) => !laneOf.has(type));
  if (missing.length > 0) throw new TypeError(`no effect lane takes ${missing.map((t) => `"${t}"`).join(', ')}: such effects would never run`);
}

export interface EffectExecutorOptions {
  store: StoragePort;
  owner: string;
  lanes: readonly EffectLane[];
  /** Effects claimed per tick of a lane, at most. */
  batchSize: number;
  leaseMs: number;
  pollMs: number;
  now(): number;
  /** Performs one claimed effect; never rejects (failures are recorded or reported inside). */
  perform(entry: OutboxEntry): Promise<void>;
  /** A lane's tick failed (say the claim met a store that cannot write). */
  onTickError(err: unknown): void;
  /** A renewal of the running effects' leases failed. */
  onRenewError(err: unknown): void;
  /** An effect finished (performed, or put off): its outcome may be work for the journal. */
  onFinished(): void;
}

/**
 * Claims due effects from the outbox and performs them, each lane with its own slots, and renews
 * the leases of those running so that none is claimed and performed twice.
 */
export class EffectExecutor {
  readonly #options: EffectExecutorOptions;
  readonly #loops: Array<{ lane: EffectLane; loop: WorkLoop; inFlight(): number }>;
  readonly #inFlight = new Set<Promise<void>>();
  /** The effects running here, by `runId:seq`: their leases are renewed until they finish. */
  readonly #running = new Map<string, { runId: string; seq: number }>();
  #renewal: NodeJS.Timeout | undefined;

  constructor(options: EffectExecutorOptions) {
    checkEffectLanes(options.lanes);
    this.#options = options;
    this.#loops = options.lanes.map((lane) => {
      const inLane = new Set<Promise<void>>();
      return { lane, loop: this.#laneLoop(lane, inLane), inFlight: () => inLane.size };
    });
  }

  /** Effects being performed now, in every lane. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Each lane's slots and how many are taken now: a lane whose slots are all taken makes its effects wait. */
  lanes(): Array<{ name: string; slots: number; inFlight: number }> {
    return this.#loops.map(({ lane, inFlight }) => ({ name: lane.name, slots: lane.concurrency, inFlight: inFlight() }));
  }

  start(): void {
    for (const { loop } of this.#loops) loop.start();
    // An effect may run longer than its lease (an HTTP call waits up to its timeout): renewed well
    // before it lapses, it is not claimed and performed again, here or by another process.
    this.#renewal = setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.#options.leaseMs / 3)));
    this.#renewal.unref();
  }

  /** Looks for due effects now: of these types, or of every type. */
  wake(types?: ReadonlySet<EffectType>): void {
    for (const { lane, loop } of this.#loops) {
      if (!types || lane.types.some((type) => types.has(type))) loop.wake();
    }
  }

  /** Stops claiming. Effects in flight go on: `drain()` waits for them. */
  async stopClaiming(): Promise<void> {
    await Promise.all(this.#loops.map(({ loop }) => loop.stop()));
  }

  /** Waits for the effects in flight, renewing their leases meanwhile, then stops renewing. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    clearInterval(this.#renewal);
  }

  #laneLoop(lane: EffectLane, inLane: Set<Promise<void>>): WorkLoop {
    const { store, owner, batchSize, leaseMs, now } = this.#options;
    // The lane's effects running here, by workspace: a claim gives a workspace no more than its share.
    const held = new Map<string, number>();
    const shares: WorkspaceShares = { max: lane.perWorkspace ?? lane.concurrency, held };
    const release = (workspaceId: string) => {
      const left = (held.get(workspaceId) ?? 0) - 1;
      if (left > 0) held.set(workspaceId, left);
      else held.delete(workspaceId);
    };
    return new WorkLoop(
      async () => {
        const free = lane.concurrency - inLane.size;
        if (free <= 0) {
          await Promise.race(inLane);
          return 1;
        }
        const limit = Math.min(free, batchSize);
        const claimed = await store.outbox.claim(owner, limit, now(), now() + leaseMs, lane.types, shares);
        for (const entry of claimed) {
          const key = `${entry.runId}:${entry.seq}`;
          // Still running here (its lease lapsed before a renewal reached it): never twice at once.
          if (this.#running.has(key)) continue;
          this.#running.set(key, { runId: entry.runId, seq: entry.seq });
          held.set(entry.workspaceId, (held.get(entry.workspaceId) ?? 0) + 1);
          const job = this.#options.perform(entry).finally(() => {
            this.#running.delete(key);
            release(entry.workspaceId);
            inLane.delete(job);
            this.#inFlight.delete(job);
            this.#options.onFinished();
          });
          inLane.add(job);
          this.#inFlight.add(job);
        }
        // Fewer than asked for: nothing else is due; new effects wake this loop.
        return claimed.length < limit ? 0 : claimed.length;
      },
      this.#options.pollMs,
      this.#options.onTickError,
    );
  }

  async #renew(): Promise<void> {
    try {
      await this.#options.store.outbox.renew(this.#options.owner, [...this.#running.values()], this.#options.now() + this.#options.leaseMs);
    } catch (err) {
      this.#options.onRenewError(err);
    }
  }
}
