import type { ValidateFunction } from 'ajv';
import type { NodeManifest } from '../catalogue/types.js';
import { createAjv, type AjvInstance } from './ajv-setup.js';

/** @internal A compiled params validator, or why the manifest's schema would not compile. */
export type ParamsValidator = { ok: true; validate: ValidateFunction } | { ok: false; reason: string };

let ajv: AjvInstance | undefined;
// Keyed by manifest object: one compile per type@version per catalogue, and an embedder that
// overrides a built-in with its own manifest gets its own validator.
const cache = new WeakMap<NodeManifest, ParamsValidator>();

/**
 * @internal
 * The validator of a manifest's params schema, compiled on first use and cached. Never throws: a
 * schema that does not compile comes back as `{ ok: false, reason }`.
 */
export function paramsValidator(manifest: NodeManifest): ParamsValidator {
  const hit = cache.get(manifest);
  if (hit) return hit;
  ajv ??= createAjv(false);
  let result: ParamsValidator;
  try {
    result = { ok: true, validate: compile(ajv, manifest) };
  } catch (err) {
    result = { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  cache.set(manifest, result);
  return result;
}

function compile(instance: AjvInstance, manifest: NodeManifest): ValidateFunction {
  try {
    return instance.compile(manifest.params);
  } catch (err) {
    // Two catalogues may carry different manifests whose params schemas share an `$id`.
    const id = manifest.params.$id;
    if (typeof id !== 'string' || !instance.getSchema(id)) throw err;
    instance.removeSchema(id);
    return instance.compile(manifest.params);
  }
}
