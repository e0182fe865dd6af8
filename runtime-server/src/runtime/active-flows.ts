import type { FlowVersionRecord, StoragePort } from '../storage/storage-port.js';

/**
 * The active flow versions of each workspace, as the trigger router needs them for every inbound
 * event. Reading and parsing them from the store per message was a tenth of the server's time.
 * A publish in this process invalidates at once; one in another process sharing the store is
 * seen within `ttlMs`.
 */
export class ActiveFlows {
  private readonly cache = new Map<string, { versions: FlowVersionRecord[]; until: number }>();

  constructor(
    private readonly store: StoragePort,
    private readonly ttlMs = 1_000,
  ) {}

  async get(workspaceId: string): Promise<FlowVersionRecord[]> {
    const hit = this.cache.get(workspaceId);
    if (hit && hit.until > Date.now()) return hit.versions;
    const versions = await this.store.flows.listActive(workspaceId);
    this.cache.set(workspaceId, { versions, until: Date.now() + this.ttlMs });
    return versions;
  }

  invalidate(workspaceId: string): void {
    this.cache.delete(workspaceId);
  }
}
