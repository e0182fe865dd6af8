import type { AgendaBackend, JobId, JobParameters, JobRepository } from 'agenda';

/**
 * Wraps a backend to know which jobs this process holds locked, and with which `nextRunAt`.
 *
 * agenda's own `stop()` releases the jobs it locked but has not started, and forgets the running
 * ones; `drain()` waits for running ones but leaves the queued ones locked until their lock
 * lifetime (10 min) expires. Knowing the held set lets `Scheduler.stop()` do both: release what did
 * not start, wait for what did. The lock-time `nextRunAt` is the occurrence a cron firing is for
 * (agenda has already moved `nextRunAt` on by the time the handler runs).
 * @internal
 */
export class LockTrackingBackend implements AgendaBackend {
  readonly name: string;
  readonly repository: JobRepository;
  /** Job id -> nextRunAt (ms) when it was locked, for jobs locked here and not yet released. */
  readonly held = new Map<string, number | null>();
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly inner: AgendaBackend) {
    this.name = inner.name;
    const repo = inner.repository;
    const track = <T>(p: Promise<T>): Promise<T> => {
      this.inflight++;
      return p.finally(() => {
        this.inflight--;
        this.checkIdle();
      });
    };
    const hold = (job: JobParameters | undefined): JobParameters | undefined => {
      if (job?._id) this.held.set(String(job._id), job.nextRunAt ? job.nextRunAt.getTime() : null);
      return job;
    };
    const release = (id: unknown): void => {
      this.held.delete(String(id));
    };
    this.repository = {
      connect: () => track(repo.connect()),
      queryJobs: (o) => track(repo.queryJobs(o)),
      getJobsOverview: () => track(repo.getJobsOverview()),
      getDistinctJobNames: () => track(repo.getDistinctJobNames()),
      getJobById: (id) => track(repo.getJobById(id)),
      getQueueSize: () => track(repo.getQueueSize()),
      removeJobs: (o) => track(repo.removeJobs(o)),
      saveJob: (job, o) => track(repo.saveJob(job, o)),
      saveJobState: (job, o) =>
        track(repo.saveJobState(job, o)).finally(() => {
          // The save that clears lockedAt is the end of a run (or a failed save of a removed job).
          if (!job.lockedAt) release(job._id);
        }),
      lockJob: (job, o) => track(repo.lockJob(job, o)).then(hold),
      unlockJob: (job) => track(repo.unlockJob(job)).finally(() => release(job._id)),
      unlockJobs: (ids: (JobId | string)[]) => track(repo.unlockJobs(ids)).finally(() => ids.forEach(release)),
      getNextJobToRun: (name, scanAt, deadline, now, o) => track(repo.getNextJobToRun(name, scanAt, deadline, now, o)).then(hold),
      disableJobs: (o) => track(repo.disableJobs(o)),
      enableJobs: (o) => track(repo.enableJobs(o)),
      purgeAllJobs: () => track(repo.purgeAllJobs()),
    };
  }

  get notificationChannel(): AgendaBackend['notificationChannel'] {
    return this.inner.notificationChannel;
  }

  get logger(): AgendaBackend['logger'] {
    return this.inner.logger;
  }

  get ownsConnection(): boolean {
    return this.inner.ownsConnection ?? true;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  /** Releases every held job in the store (used for jobs locked but never started). */
  async releaseHeld(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.repository.unlockJobs(ids);
  }

  /**
   * Resolves once no job is held and no repository call is in flight, checked after a macrotask
   * so that what agenda does right after a save (auto-remove of a finished timer) is counted.
   */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    setImmediate(() => {
      if (this.held.size > 0 || this.inflight > 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    });
  }
}
