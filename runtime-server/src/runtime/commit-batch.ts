import type { StepCommit, StoragePort } from '../storage/storage-port.js';

/**
 * Collects the step commits made while processing a round of journal entries (one entry per
 * ordering key, so no entry of the round reads what another wrote) and writes them together:
 * one transaction and one set of WAL pages for the round instead of one per step.
 *
 * A commit's `landed` callback runs only once it is written. Failures are kept per journal entry,
 * for the caller to settle after `flush`.
 */
export class CommitBatch {
  #pending: Array<{ commit: StepCommit; entryId: string; landed: () => void }> = [];
  readonly #failures = new Map<string, Error>();
  readonly #released = new Set<string>();

  constructor(private readonly store: Pick<StoragePort, 'commitSteps'>) {}

  add(commit: StepCommit, entryId: string, landed: () => void): void {
    this.#pending.push({ commit, entryId, landed });
  }

  /**
   * Makes the last commit added for `entryId` release its lease when it lands: the caller has no
   * more entries of that key. False when the entry has no commit waiting in the batch.
   */
  releaseWithLastOf(entryId: string): boolean {
    for (let i = this.#pending.length - 1; i >= 0; i -= 1) {
      const pending = this.#pending[i]!;
      if (pending.entryId !== entryId) continue;
      pending.commit = { ...pending.commit, releaseLease: true };
      return true;
    }
    return false;
  }

  /** Lease keys released by commits that landed. */
  get releasedKeys(): ReadonlySet<string> {
    return this.#released;
  }

  /** Records that processing `entryId` failed before it could commit. */
  fail(entryId: string, error: unknown): void {
    if (!this.#failures.has(entryId)) this.#failures.set(entryId, error instanceof Error ? error : new Error(String(error)));
  }

  /** The first error met by the entry's processing or by one of its commits. */
  failureOf(entryId: string): Error | undefined {
    return this.#failures.get(entryId);
  }

  /** Writes every commit added so far. */
  async flush(): Promise<void> {
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    let results: (Error | undefined)[];
    try {
      results = await this.store.commitSteps(batch.map((p) => p.commit));
    } catch (err) {
      results = batch.map(() => (err instanceof Error ? err : new Error(String(err))));
    }
    batch.forEach((p, i) => {
      const error = results[i];
      if (error) {
        this.fail(p.entryId, error);
        return;
      }
      if (p.commit.releaseLease) this.#released.add(p.commit.leaseKey);
      p.landed();
    });
  }
}
