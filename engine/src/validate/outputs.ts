import type { NodeManifest } from '../catalogue/types.js';
import type { JsonValue } from '../json.js';

/**
 * Reads a dotted path (`saveTo.variable`) out of a params object; `undefined` when any step is
 * missing or not an object.
 *
 * Pure.
 */
export function getParam(params: unknown, dottedPath: string): JsonValue | undefined {
  let current: unknown = params;
  for (const key of dottedPath.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current as JsonValue | undefined;
}

/**
 * The output names a node instance has: the manifest's fixed outputs plus, for an `OutputsSpec`
 * with `fromParam`, the `key` of each item of that array param (e.g. one per button id), in
 * order, before or after the fixed ones. Items without a string key are skipped; duplicates are
 * kept so the validator can report them.
 *
 * Pure.
 *
 * @example
 * resolveOutputs(buttons.manifest, { buttons: [{ id: 'yes' }, { id: 'no' }] })
 * // ['yes', 'no', 'timeout']
 */
export function resolveOutputs(manifest: Pick<NodeManifest, 'outputs'>, params: unknown): string[] {
  const spec = manifest.outputs;
  if (Array.isArray(spec)) return [...spec];
  const items = getParam(params, spec.fromParam.param);
  const dynamic: string[] = [];
  if (Array.isArray(items)) {
    for (const item of items) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
      const key = item[spec.fromParam.key];
      if (typeof key === 'string' && key !== '') dynamic.push(key);
    }
  }
  return spec.position === 'before' ? [...dynamic, ...spec.fixed] : [...spec.fixed, ...dynamic];
}
