/**
 * A read-through cache whose entries live `ttlMs`: for records read on every request or event that
 * change rarely (workspaces, API keys, active flows). A change made in this process invalidates at
 * once; one made by another process sharing the store is seen within `ttlMs`. Misses (undefined)
 * are not kept, so a record created elsewhere shows up at the next read and unknown keys cannot
 * fill the cache.
 */
export class ExpiringCache<K, V> {
  readonly #entries = new Map<K, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: K, load: (key: K) => Promise<V | undefined>): Promise<V | undefined> {
    const now = performance.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load(key);
    if (value === undefined) {
      this.#entries.delete(key);
      return undefined;
    }
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(key, { value, until: now + this.ttlMs });
    return value;
  }

  /** Forgets one key, or everything. */
  invalidate(key?: K): void {
    if (key === undefined) this.#entries.clear();
    else this.#entries.delete(key);
  }
}
