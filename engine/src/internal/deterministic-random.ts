const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a (32 bit) of a string's UTF-16 code units.
 *
 * @internal
 */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * A number in [0, 1) derived from a run, a node and the node's visit number, so a re-run of the same
 * steps draws the same numbers (an A/B split sends a contact the same way every replay).
 *
 * Pure.
 *
 * @internal
 * @example
 * deterministicRandom('run-1', 'split', 1) === deterministicRandom('run-1', 'split', 1) // true
 */
export function deterministicRandom(runId: string, nodeId: string, visit: number): number {
  // A final avalanche (murmur3 fmix32) spreads close inputs such as visit 1 and 2 over the range.
  let h = fnv1a(`${runId}\u0000${nodeId}\u0000${visit}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}
