import type { JsonObject, JsonValue, NodeManifest } from '@convoflow/engine';

/**
 * The outputs a node instance has: the manifest's fixed outputs plus, for `fromParam`, the key of
 * every item of the named array param (e.g. one output per button id).
 *
 * Pure.
 *
 * @example
 * nodeOutputs(sendButtons.manifest, { buttons: [{ id: 'yes' }, { id: 'no' }], ... })
 * // ['yes', 'no', 'no_match', 'timeout', 'failed']
 */
export function nodeOutputs(manifest: Pick<NodeManifest, 'outputs'>, params: JsonObject): string[] {
  const { outputs } = manifest;
  if (Array.isArray(outputs)) return [...outputs];
  let list: JsonValue | undefined = params;
  for (const segment of outputs.fromParam.param.split('.')) {
    list = list !== null && typeof list === 'object' && !Array.isArray(list) ? list[segment] : undefined;
  }
  const fromParam = (Array.isArray(list) ? list : []).flatMap((item) => {
    const key = item !== null && typeof item === 'object' && !Array.isArray(item) ? item[outputs.fromParam.key] : undefined;
    return typeof key === 'string' ? [key] : [];
  });
  return outputs.position === 'after' ? [...outputs.fixed, ...fromParam] : [...fromParam, ...outputs.fixed];
}
