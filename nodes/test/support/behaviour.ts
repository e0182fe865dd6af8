import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FlowEvent, JsonObject, NodeScope, PureResult, WaitReaction, WaitState } from '@convoflow/engine';
import { createNodeScope, createWaitState, type ExecutableNodeDefinition, type NodeScopeOptions } from '../../src/index.js';

/** An Ajv set up as the validator does: 2020-12, strict, ajv-formats, `template` format. */
export function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('template', true);
  return ajv;
}

const ajv = strictAjv();

/** Throws when params do not match the node's schema, so every test runs on params a flow could hold. */
export function assertValidParams(definition: ExecutableNodeDefinition, params: JsonObject): void {
  const validate = ajv.compile(definition.manifest.params);
  if (!validate(params)) throw new Error(`invalid params for ${definition.manifest.type}: ${ajv.errorsText(validate.errors)}`);
}

/** A scope for a node, with its params checked against its schema first. */
export function scopeFor(definition: ExecutableNodeDefinition, options: NodeScopeOptions<JsonObject>): NodeScope {
  assertValidParams(definition, options.params);
  return createNodeScope({ type: definition.manifest.type, typeVersion: definition.manifest.typeVersion, ...options });
}

export function resolve(definition: ExecutableNodeDefinition, ctx: NodeScope): PureResult {
  if (definition.behaviour.kind !== 'pure') throw new Error(`${definition.manifest.type} is not pure`);
  return definition.behaviour.resolve(ctx);
}

export function enter(definition: ExecutableNodeDefinition, ctx: NodeScope): WaitReaction {
  if (definition.behaviour.kind !== 'wait') throw new Error(`${definition.manifest.type} does not wait`);
  return definition.behaviour.enter(ctx);
}

export function on(definition: ExecutableNodeDefinition, ctx: NodeScope, event: FlowEvent, wait: Partial<WaitState> = {}): WaitReaction {
  if (definition.behaviour.kind !== 'wait') throw new Error(`${definition.manifest.type} does not wait`);
  return definition.behaviour.on(ctx, event, createWaitState(wait));
}
