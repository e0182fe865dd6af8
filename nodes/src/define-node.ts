import { CHANNELS, type JsonObject, type JsonSchema, type JsonValue, type NodeBehaviour, type NodeManifest, type NodeScope, type OutputsSpec } from '@convoflow/engine';
import type { ExecutableNodeDefinition, NodeSpec } from './types.js';
import { NodeDefinitionError } from './errors.js';

const KINDS = ['pure', 'wait', 'jump', 'end'] as const;
const CATEGORIES = ['trigger', 'message', 'logic', 'data', 'timing', 'integration', 'flow', 'custom'] as const;
const TYPE_NAME = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

/**
 * Defines a node type: checks the spec and splits it into the serialisable manifest the designer
 * and validator read, the pure behaviour the engine runs inside its step, and the optional
 * `execute` the runtime runs for the node's `executeNode` effects.
 *
 * `P` types the params the node's functions receive; declare it to match the `params` schema.
 *
 * @throws NodeDefinitionError naming the spec field at fault (missing outputs, `execute` on a
 *   pure node, a `writesVariables` path the params schema lacks, ...).
 * @example
 * const shout = defineNode<{ text: string }>({
 *   type: 'shout', typeVersion: 1, kind: 'pure', category: 'data', title: 'Shout',
 *   description: 'Saves the text in capitals.', icon: 'megaphone',
 *   params: { type: 'object', properties: { text: { type: 'string', format: 'template' } }, required: ['text'] },
 *   outputs: ['next'],
 *   resolve: ({ params }) => ({ output: 'next', set: { vars: { shout: params.text.toUpperCase() } } }),
 * });
 */
export function defineNode<P = JsonObject>(spec: NodeSpec<P>): ExecutableNodeDefinition {
  checkSpec(spec);
  const manifest: NodeManifest = {
    type: spec.type,
    typeVersion: spec.typeVersion,
    kind: spec.kind,
    category: spec.category,
    title: spec.title,
    description: spec.description,
    icon: spec.icon,
    params: spec.params,
    outputs: spec.outputs,
    ...(spec.channels ? { channels: spec.channels } : {}),
    ...(spec.waitsForReply ? { waitsForReply: true } : {}),
    ...(spec.writesVariables?.length ? { writesVariables: spec.writesVariables } : {}),
    ...(spec.deprecated ? { deprecated: true } : {}),
  };
  // The engine hands every node untyped JSON params; `P` is the author's promise that the params
  // schema (checked by the validator before any run) guarantees that shape.
  const typed = (ctx: NodeScope): NodeScope<P> => ctx as unknown as NodeScope<P>;
  let behaviour: NodeBehaviour;
  switch (spec.kind) {
    case 'pure':
      behaviour = { kind: 'pure', resolve: (ctx) => spec.resolve(typed(ctx)) };
      break;
    case 'wait':
      behaviour = {
        kind: 'wait',
        enter: (ctx) => spec.enter(typed(ctx)),
        on: (ctx, event, wait) => spec.on(typed(ctx), event, wait),
      };
      break;
    default:
      behaviour = { kind: spec.kind };
  }
  const definition: ExecutableNodeDefinition = { manifest, behaviour };
  if (spec.kind === 'wait' && spec.execute) {
    const execute = spec.execute;
    definition.execute = (ctx, params) => execute(ctx, params as unknown as P);
  }
  return definition;
}

function checkSpec<P>(spec: NodeSpec<P>): void {
  if (spec === null || typeof spec !== 'object') throw new NodeDefinitionError('?', 'spec', 'must be an object');
  const type = typeof spec.type === 'string' ? spec.type : '?';
  const fail = (field: string, message: string): never => {
    throw new NodeDefinitionError(type, field, message);
  };
  if (!TYPE_NAME.test(type)) fail('type', 'must be lower case letters and digits separated by _ . or - (e.g. "send_text")');
  if (!Number.isInteger(spec.typeVersion) || spec.typeVersion < 1) fail('typeVersion', 'must be a whole number from 1');
  if (!(KINDS as readonly string[]).includes(spec.kind)) fail('kind', `must be one of ${KINDS.join(', ')}`);
  if (!(CATEGORIES as readonly string[]).includes(spec.category)) fail('category', `must be one of ${CATEGORIES.join(', ')}`);
  for (const field of ['title', 'description', 'icon'] as const) {
    if (typeof spec[field] !== 'string' || spec[field].trim() === '') fail(field, 'is required');
  }
  if (!isObject(spec.params) || spec.params.type !== 'object') fail('params', 'must be a JSON Schema with type "object"');
  if (!isJson(spec.params)) fail('params', 'must be plain JSON (no functions, undefined or cycles)');
  if (spec.outputs === undefined) fail('outputs', 'are missing: list the outputs (an empty list for jump and end nodes)');
  const names = checkOutputs(spec.outputs, spec.params, fail);

  const functions = spec as unknown as Record<string, unknown>;
  const has = (name: string): boolean => functions[name] !== undefined;
  const needs = (name: string): void => {
    if (typeof functions[name] !== 'function') fail(name, `must be a function on a ${spec.kind} node`);
  };
  const forbids = (...fields: string[]): void => {
    for (const name of fields) if (has(name)) fail(name, `is not allowed on a ${spec.kind} node`);
  };
  if (spec.kind === 'pure') {
    needs('resolve');
    forbids('enter', 'on', 'execute');
  } else if (spec.kind === 'wait') {
    needs('enter');
    needs('on');
    forbids('resolve');
    if (has('execute')) needs('execute');
  } else {
    forbids('resolve', 'enter', 'on', 'execute');
  }
  if ((spec.kind === 'pure' || spec.kind === 'wait') && names.length === 0 && Array.isArray(spec.outputs)) {
    fail('outputs', `must name at least one output on a ${spec.kind} node`);
  }
  if ((spec.kind === 'jump' || spec.kind === 'end') && names.length > 0) fail('outputs', `must be empty on a ${spec.kind} node`);

  if (spec.waitsForReply) {
    if (spec.kind !== 'wait') fail('waitsForReply', 'is only allowed on a wait node');
    if (!names.includes('timeout')) fail('outputs', 'must include "timeout": every wait for a reply can time out');
  }
  for (const path of spec.writesVariables ?? []) {
    const at = schemaAt(spec.params, path);
    if (!at || (at.type !== undefined && at.type !== 'string')) {
      fail('writesVariables', `names "${path}", which is not a string param of the params schema`);
    }
  }
  for (const channel of spec.channels ?? []) {
    if (!(CHANNELS as readonly string[]).includes(channel)) fail('channels', `has unknown channel "${channel}"`);
  }
}

function checkOutputs(outputs: OutputsSpec, params: JsonSchema, fail: (field: string, message: string) => never): string[] {
  const fixed = Array.isArray(outputs) ? outputs : isObject(outputs) ? outputs.fixed : undefined;
  if (!Array.isArray(fixed)) return fail('outputs', 'must be a list of names or { fixed, fromParam }');
  const seen = new Set<string>();
  for (const name of fixed) {
    if (typeof name !== 'string' || name === '') fail('outputs', 'must hold non-empty names');
    if (seen.has(name)) fail('outputs', `names "${name}" twice`);
    seen.add(name);
  }
  if (!Array.isArray(outputs)) {
    const { fromParam } = outputs;
    if (!isObject(fromParam) || typeof fromParam.param !== 'string' || typeof fromParam.key !== 'string') {
      fail('outputs.fromParam', 'must be { param, key }');
    }
    const list = schemaAt(params, fromParam.param);
    if (!list || list.type !== 'array') fail('outputs.fromParam.param', `names "${fromParam.param}", which is not an array param`);
    const items = list.items;
    if (!isObject(items) || !isObject(items.properties) || !isObject(items.properties[fromParam.key])) {
      fail('outputs.fromParam.key', `names "${fromParam.key}", which the items of "${fromParam.param}" do not have`);
    }
  }
  return [...seen];
}

/** The schema of a dotted param path, stepping through arrays into their items. */
function schemaAt(schema: JsonSchema, path: string): JsonSchema | undefined {
  let at: JsonSchema | undefined = schema;
  for (const segment of path.split('.')) {
    while (at && at.type === 'array' && isObject(at.items)) at = at.items;
    const props: JsonValue | undefined = at?.properties;
    const next: JsonValue | undefined = isObject(props) ? props[segment] : undefined;
    at = isObject(next) ? next : undefined;
    if (!at) return undefined;
  }
  return at;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJson(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  const ok = Array.isArray(value)
    ? value.every((item) => isJson(item, seen))
    : Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every((item) => isJson(item, seen));
  seen.delete(value);
  return ok;
}
