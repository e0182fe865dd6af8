import type { Catalogue, NodeDefinition } from './types.js';

/**
 * Builds a catalogue from node definitions. A later definition of the same type and version
 * replaces an earlier one, so an embedder can override a built-in.
 *
 * @example
 * const catalogue = createCatalogue([...builtinNodes, myNode]);
 */
export function createCatalogue<D extends NodeDefinition>(definitions: Iterable<D>): Catalogue & { get(type: string, typeVersion: number): D | undefined; list(): D[] } {
  const byKey = new Map<string, D>();
  for (const definition of definitions) {
    byKey.set(key(definition.manifest.type, definition.manifest.typeVersion), definition);
  }
  const sorted = [...byKey.values()].sort(
    (a, b) => a.manifest.type.localeCompare(b.manifest.type) || a.manifest.typeVersion - b.manifest.typeVersion,
  );
  return {
    get: (type, typeVersion) => byKey.get(key(type, typeVersion)),
    list: () => sorted,
  };
}

const key = (type: string, typeVersion: number): string => `${type}@${typeVersion}`;
