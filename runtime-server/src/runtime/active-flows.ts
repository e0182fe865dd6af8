import type { FlowVersionRecord, StoragePort } from '../storage/storage-port.js';
import { ExpiringCache } from '../support/expiring-cache.js';

/**
 * The active flow versions of each workspace, as the trigger router needs them for every inbound
 * event. Reading and parsing them from the store per message was a tenth of the server's time.
 * A publish in this process invalidates at once; one in another process sharing the store is
 * seen within `ttlMs`.
 */
export class ActiveFlows {
  private readonly cache: ExpiringCache<string, FlowVersionRecord[]>;

  constructor(
    private readonly store: StoragePort,
    ttlMs = 1_000,
  ) {
    this.cache = new ExpiringCache(ttlMs);
  }

  async get(workspaceId: string): Promise<FlowVersionRecord[]> {
    return (await this.cache.get(workspaceId, (id) => this.store.flows.listActive(id))) ?? [];
  }

  invalidate(workspaceId: string): void {
    this.cache.invalidate(workspaceId);
  }
}
