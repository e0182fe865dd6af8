import type { JsonObject, JsonValue } from '../json.js';
import type { JsonSchema } from '../catalogue/types.js';

/**
 * Where in a params object the template strings are: a tree mirroring the params schema, kept only
 * along branches that lead to a `"format": "template"` string.
 *
 * @internal
 */
export interface TemplateTree {
  /** The value here is a template string. */
  self?: true;
  props?: Map<string, TemplateTree>;
  /** Every array item. */
  items?: TemplateTree;
  /** Every value of a map (`additionalProperties` / `patternProperties`). */
  values?: TemplateTree;
}

const MAX_DEPTH = 32;

/**
 * Finds the template params of a manifest's params schema: walks `properties`, `items`,
 * `prefixItems`, `additionalProperties`, `patternProperties`, `allOf`/`anyOf`/`oneOf`,
 * `if`/`then`/`else` and local `$ref`s (`#/$defs/...`, `#/definitions/...`).
 *
 * Pure.
 *
 * @internal
 * @returns the tree, or `undefined` when the schema has no template string.
 */
export function templateTree(schema: JsonSchema): TemplateTree | undefined {
  return walk(schema, schema, [], 0);
}

function walk(schema: JsonValue | undefined, root: JsonSchema, stack: JsonObject[], depth: number): TemplateTree | undefined {
  if (!isObject(schema) || depth > MAX_DEPTH || stack.includes(schema)) return undefined;
  const inner = [...stack, schema];
  const tree: TemplateTree = {};
  if (schema.format === 'template' && allowsString(schema.type)) tree.self = true;

  const ref = schema.$ref;
  if (typeof ref === 'string') merge(tree, walk(resolveRef(root, ref), root, inner, depth + 1));

  if (isObject(schema.properties)) {
    for (const [key, sub] of Object.entries(schema.properties)) {
      const child = walk(sub, root, inner, depth + 1);
      if (child) (tree.props ??= new Map()).set(key, merge(tree.props?.get(key) ?? {}, child));
    }
  }
  const itemSchemas = [
    ...(Array.isArray(schema.items) ? schema.items : [schema.items]),
    ...(Array.isArray(schema.prefixItems) ? schema.prefixItems : []),
  ];
  for (const sub of itemSchemas) {
    const child = walk(sub, root, inner, depth + 1);
    if (child) tree.items = merge(tree.items ?? {}, child);
  }
  const valueSchemas = [
    schema.additionalProperties,
    ...(isObject(schema.patternProperties) ? Object.values(schema.patternProperties) : []),
  ];
  for (const sub of valueSchemas) {
    const child = walk(sub, root, inner, depth + 1);
    if (child) tree.values = merge(tree.values ?? {}, child);
  }
  for (const keyword of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[keyword];
    if (Array.isArray(branches)) for (const sub of branches) merge(tree, walk(sub, root, inner, depth + 1));
  }
  for (const keyword of ['if', 'then', 'else'] as const) merge(tree, walk(schema[keyword], root, inner, depth + 1));

  return tree.self || tree.props || tree.items || tree.values ? tree : undefined;
}

function merge(into: TemplateTree, from: TemplateTree | undefined): TemplateTree {
  if (!from) return into;
  if (from.self) into.self = true;
  if (from.props) {
    for (const [key, child] of from.props) {
      (into.props ??= new Map()).set(key, merge(into.props.get(key) ?? {}, child));
    }
  }
  if (from.items) into.items = merge(into.items ?? {}, from.items);
  if (from.values) into.values = merge(into.values ?? {}, from.values);
  return into;
}

function resolveRef(root: JsonSchema, ref: string): JsonValue | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let at: JsonValue | undefined = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    at = isObject(at) ? at[key] : Array.isArray(at) ? at[Number(key)] : undefined;
  }
  return at;
}

function allowsString(type: JsonValue | undefined): boolean {
  return type === undefined || type === 'string' || (Array.isArray(type) && type.includes('string'));
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns `value` with every template string the tree points at rendered. Copies only the
 * branches it changes; the input is never mutated.
 *
 * Pure when `render` is.
 *
 * @internal
 * @throws whatever `render` throws (a TemplateError for a bad template).
 */
export function renderTemplates<T extends JsonValue>(value: T, tree: TemplateTree, render: (template: string) => string): T {
  return renderValue(value, tree, render) as T;
}

function renderValue(value: JsonValue, tree: TemplateTree, render: (template: string) => string): JsonValue {
  if (typeof value === 'string') return tree.self ? render(value) : value;
  if (Array.isArray(value)) {
    const items = tree.items;
    if (!items) return value;
    let copy: JsonValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const before = value[i] as JsonValue;
      const after = renderValue(before, items, render);
      if (after !== before) (copy ??= value.slice())[i] = after;
    }
    return copy ?? value;
  }
  if (!isObject(value)) return value;
  let copy: JsonObject | undefined;
  for (const key of Object.keys(value)) {
    const sub = tree.props?.get(key) ?? tree.values;
    if (!sub) continue;
    const before = value[key] as JsonValue;
    const after = renderValue(before, sub, render);
    if (after !== before) (copy ??= { ...value })[key] = after;
  }
  return copy ?? value;
}
