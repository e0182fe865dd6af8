import { randomUUID } from 'node:crypto';
import { MongoBackend, MongoJobRepository, ObjectId } from '@agendajs/mongo-backend';
import type { AgendaBackend } from 'agenda';
import type { JsonObject } from '@convoflow/engine';
import type { ClaimedTimer, TimerFailure, TimerStore, TimerStoreProvider } from './internal/timer-store.js';

/**
 * The scheduler's MongoDB backend (scale-out): agenda's own `@agendajs/mongo-backend`, jobs in
 * the `agendaJobs` collection of the URI's database. The backend owns this connection and closes
 * it on `Scheduler.stop()`. One-shot timers are claimed and settled in batches on the same
 * collection (see {@link createAgendaScheduler}).
 *
 * @param uri - a MongoDB connection string, e.g. `process.env.MONGODB_URI`
 * @example
 * ```ts
 * const scheduler = createAgendaScheduler({ backend: createMongoSchedulerBackend(process.env.MONGODB_URI!) });
 * ```
 */
export function createMongoSchedulerBackend(uri: string, options: { collection?: string } = {}): AgendaBackend {
  return new TimerMongoBackend({ address: uri, collection: options.collection ?? 'agendaJobs' });
}

class TimerMongoBackend extends MongoBackend implements TimerStoreProvider {
  /**
   * Adds the index agenda does not create: one job per (name, data.key). Timers and schedules are
   * saved as upserts on that pair, which without a unique index are not atomic (two processes
   * scheduling one timer could both insert, and it would fire twice), and cancelling by key would
   * scan every job of the name. SQLite's backend has the same pair unique (agenda_jobs_unique).
   */
  override async connect(): Promise<void> {
    await super.connect();
    await this.jobRepository().collection.createIndex(
      { name: 1, 'data.key': 1 },
      { name: 'convoflow_job_key', unique: true, partialFilterExpression: { 'data.key': { $exists: true } } },
    );
  }

  timerStore(jobName: string): TimerStore {
    return new MongoTimerStore(this.jobRepository(), jobName);
  }

  private jobRepository(): MongoJobRepository {
    const repo = this.repository;
    if (!(repo instanceof MongoJobRepository)) throw new Error('MongoDB timer store: unexpected repository');
    return repo;
  }
}

type Collection = MongoJobRepository['collection'];

interface TimerDoc {
  _id: ObjectId;
  data?: { key?: string; dueAt?: number; payload?: JsonObject };
  failCount?: number | null;
}

/**
 * {@link TimerStore} on agenda's Mongo collection. MongoDB has no multi-document UPDATE ... RETURNING:
 * a claim picks candidate ids, locks those still claimable with one updateMany under a fresh claim
 * token (the filter is re-checked per document, so two processes never both win one), then reads
 * back the ones carrying its token.
 * @internal
 */
class MongoTimerStore implements TimerStore {
  constructor(
    private readonly repo: MongoJobRepository,
    private readonly jobName: string,
  ) {}

  private get collection(): Collection {
    return this.repo.collection;
  }

  async schedule(timerId: string, dueAt: number, payload: JsonObject, owner: string): Promise<void> {
    try {
      await this.saveOnce(timerId, dueAt, payload, owner);
    } catch (err) {
      // Another process inserted the same timer between this upsert's match and its insert: the
      // unique key kept one, which is what scheduling an existing timer means.
      if ((err as { code?: unknown }).code !== 11000) throw err;
    }
  }

  private async saveOnce(timerId: string, dueAt: number, payload: JsonObject, owner: string): Promise<void> {
    await this.repo.saveJob(
      {
        name: this.jobName,
        priority: 0,
        type: 'normal',
        nextRunAt: new Date(dueAt),
        data: { key: timerId, dueAt, payload },
        unique: { 'data.key': timerId },
        uniqueOpts: { insertOnly: true },
      },
      { lastModifiedBy: owner },
    );
  }

  async claimDue(now: number, limit: number, owner: string, lockLifetimeMs: number): Promise<ClaimedTimer[]> {
    const at = new Date(now);
    const claimable = {
      name: this.jobName,
      disabled: { $ne: true },
      nextRunAt: { $ne: null, $lte: at },
      $or: [{ lockedAt: { $eq: null } }, { lockedAt: { $lte: new Date(now - lockLifetimeMs) } }],
    };
    const candidates = await this.collection
      .find(claimable, { projection: { _id: 1 } })
      .sort({ nextRunAt: 1 })
      .limit(limit)
      .toArray();
    if (candidates.length === 0) return [];
    const token = `${owner}#${randomUUID()}`;
    const ids = candidates.map((c) => c._id);
    await this.collection.updateMany(
      { ...claimable, _id: { $in: ids } },
      { $set: { lockedAt: at, lastRunAt: at, lastModifiedBy: token } },
    );
    const docs = (await this.collection
      .find({ _id: { $in: ids }, lastModifiedBy: token }, { projection: { data: 1, failCount: 1 } })
      .toArray()) as unknown as TimerDoc[];
    return docs.map((d) => ({
      id: d._id.toHexString(),
      timerId: String(d.data?.key ?? ''),
      dueAt: Number(d.data?.dueAt ?? 0),
      payload: d.data?.payload ?? {},
      failCount: d.failCount ?? 0,
    }));
  }

  async nextDueAt(): Promise<number | null> {
    const next = await this.collection
      .find({ name: this.jobName, disabled: { $ne: true }, lockedAt: { $eq: null }, nextRunAt: { $ne: null } }, { projection: { nextRunAt: 1 } })
      .sort({ nextRunAt: 1 })
      .limit(1)
      .toArray();
    const at = next[0]?.nextRunAt;
    return at instanceof Date ? at.getTime() : null;
  }

  async complete(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.collection.deleteMany({ _id: { $in: ids.map((id) => new ObjectId(id)) } });
  }

  async fail(failures: TimerFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.collection.bulkWrite(
      failures.map((f) => ({
        updateOne: {
          filter: { _id: new ObjectId(f.id) },
          update: {
            $set: {
              nextRunAt: f.retryAt === null ? null : new Date(f.retryAt),
              failCount: f.failCount,
              failReason: f.reason,
              failedAt: new Date(f.failedAt),
              lastFinishedAt: new Date(f.failedAt),
            },
            $unset: { lockedAt: true as const },
          },
        },
      })),
      { ordered: false },
    );
  }

  async touch(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.collection.updateMany(
      { _id: { $in: ids.map((id) => new ObjectId(id)) }, lockedAt: { $ne: null } },
      { $set: { lockedAt: new Date(now) } },
    );
  }
}
