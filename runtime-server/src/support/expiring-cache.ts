/**
 * A read-through cache whose entries live `ttlMs`: for records read on every request or event that
 * change rarely (workspaces, API keys, active flows). A change made in this process invalidates at
 * once; one made by another process sharing the store is seen within `ttlMs`. Misses (undefined)
 * are not kept, so a record created elsewhere shows up at the next read and unknown keys cannot
 * fill the cache. The loader is given the value that expired, if any, to check it is still good
 * rather than read it all again.
 */
export class ExpiringCache<K, V> {
  readonly #entries = new Map<K, { value: V; until: number }>();
  /** Counts `expire` and `invalidate` calls: a load they overlap may have read what they replace. */
  #changes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: K, load: (key: K, expired: V | undefined) => Promise<V | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const changes = this.#changes;
    const value = await load(key, hit?.value);
    if (value === undefined) {
      this.#entries.delete(key);
      return undefined;
    }
    // Re-inserted, so the Map's order is the order of loading: the first entry is the stalest.
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) {
      // One goes, not all: clearing would make every key (every workspace of a large server)
      // load in full again at once.
      const stalest = this.#entries.keys().next();
      if (!stalest.done) this.#entries.delete(stalest.value);
    }
    this.#entries.set(key, { value, until: changes === this.#changes ? now + this.ttlMs : Number.NEGATIVE_INFINITY });
    return value;
  }

  /** Makes the next `get` of `key` load again, handing the loader the value it had. */
  expire(key: K): void {
    this.#changes += 1;
    const hit = this.#entries.get(key);
    if (hit) hit.until = Number.NEGATIVE_INFINITY;
  }

  /** Forgets one key, or everything. */
  invalidate(key?: K): void {
    this.#changes += 1;
    if (key === undefined) this.#entries.clear();
    else this.#entries.delete(key);
  }
}
