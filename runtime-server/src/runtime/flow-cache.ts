import { compile, type Catalogue } from '@convoflow/engine';
import type { FlowVersionRecord, StoragePort } from '../storage/storage-port.js';

type Compiled = ReturnType<typeof compile>;

/**
 * What one compiled version weighs against `maxNodes`: its nodes, plus a machine's fixed cost in
 * nodes. Measured: ~26 KB of heap for a 10-node flow, ~1.7 MB for a 1,000-node one.
 */
const weightOf = (record: FlowVersionRecord): number => record.definition.nodes.length + 10;

/** Default bound: ~1,500 ten-node flows (~40 MB of heap), or ~30 of 1,000 nodes (~50 MB). */
export const DEFAULT_COMPILED_FLOW_NODES = 30_000;

/**
 * Compiled machines of published flow versions, the least recently used dropped first. Versions
 * are immutable, so an entry never goes stale. The bound is in nodes, not versions: a count
 * either let large flows take gigabytes or made a server with many small flows busy compile
 * them again and again (1,000 flows in turn over a bound of 500 halved its throughput).
 */
export class FlowCache {
  private readonly compiled = new Map<string, { machine: Compiled; weight: number }>();
  private weight = 0;

  constructor(
    private readonly store: StoragePort,
    private readonly catalogue: Catalogue,
    private readonly maxNodes = DEFAULT_COMPILED_FLOW_NODES,
  ) {}

  /** The compiled machine of a version, reading and compiling it on first use. */
  async get(workspaceId: string, flowId: string, version: number): Promise<Compiled> {
    const key = `${workspaceId}/${flowId}@${version}`;
    const hit = this.compiled.get(key);
    if (hit) {
      // Map iteration order is insertion order: re-inserting marks it the most recently used.
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit.machine;
    }
    const source = await this.store.flows.getVersion(workspaceId, flowId, version);
    if (!source) throw new Error(`Flow ${flowId} has no published version ${version}`);
    const compiledMeanwhile = this.compiled.get(key);
    if (compiledMeanwhile) return compiledMeanwhile.machine;
    const entry = { machine: compile(source.definition, this.catalogue), weight: weightOf(source) };
    for (const [oldest, { weight }] of this.compiled) {
      if (this.weight + entry.weight <= this.maxNodes) break;
      this.compiled.delete(oldest);
      this.weight -= weight;
    }
    // One version heavier than the bound is still kept, alone, while it is the one in use.
    this.compiled.set(key, entry);
    this.weight += entry.weight;
    return entry.machine;
  }
}
