import type { StoragePort } from '../storage/storage-port.js';
import { ExpiringCache } from '../support/expiring-cache.js';
import { TriggerIndex } from '../triggers/trigger-index.js';

/**
 * The active flow versions of each workspace, indexed by their triggers, as the trigger router
 * needs them for every inbound event. Reading and parsing them from the store per message was a
 * tenth of the server's time. A publish in this process invalidates at once; one in another
 * process sharing the store is seen within `ttlMs`.
 */
export class ActiveFlows {
  private readonly cache: ExpiringCache<string, TriggerIndex>;

  constructor(
    private readonly store: StoragePort,
    ttlMs = 1_000,
  ) {
    this.cache = new ExpiringCache(ttlMs);
  }

  async triggers(workspaceId: string): Promise<TriggerIndex> {
    const index = await this.cache.get(workspaceId, async (id) => new TriggerIndex(await this.store.flows.listActive(id)));
    return index as TriggerIndex; // the loader always gives one
  }

  invalidate(workspaceId: string): void {
    this.cache.invalidate(workspaceId);
  }
}
