import { compile, type Catalogue } from '@convoflow/engine';
import type { StoragePort } from '../storage/storage-port.js';

type Compiled = ReturnType<typeof compile>;

/**
 * Compiled machines of published flow versions. Versions are immutable, so an entry never goes
 * stale; the cache is bounded so a workspace with many versions cannot grow memory without limit.
 */
export class FlowCache {
  private readonly compiled = new Map<string, Compiled>();

  constructor(
    private readonly store: StoragePort,
    private readonly catalogue: Catalogue,
    private readonly maxEntries = 500,
  ) {}

  /** The compiled machine of a version, loading and compiling it on first use. */
  async get(workspaceId: string, flowId: string, version: number): Promise<Compiled> {
    const key = `${workspaceId}/${flowId}@${version}`;
    const hit = this.compiled.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so re-insert to mark as recent.
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit;
    }
    const record = await this.store.flows.getVersion(workspaceId, flowId, version);
    if (!record) throw new Error(`Flow ${flowId} has no published version ${version}`);
    const machine = compile(record.definition, this.catalogue);
    if (this.compiled.size >= this.maxEntries) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    this.compiled.set(key, machine);
    return machine;
  }
}
