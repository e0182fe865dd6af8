import type { ValidateFunction } from 'ajv';
import flowSchema from '../../../schemas/flow.schema.json' with { type: 'json' };
import nodeManifestSchema from '../../../schemas/node-manifest.schema.json' with { type: 'json' };
import messageSchema from '../../../schemas/message.schema.json' with { type: 'json' };
import { createAjv } from './ajv-setup.js';

let compiled: ValidateFunction | undefined;

/**
 * @internal
 * The compiled validator of `schemas/flow.schema.json`, built on first use and then shared: ajv
 * compiles a schema to code, which costs milliseconds, so it is done once per process.
 */
export function flowSchemaValidator(): ValidateFunction {
  compiled ??= createAjv(true).compile(flowSchema);
  return compiled;
}

/**
 * The JSON Schemas (2020-12) shipped in `schemas/`: the flow document, a node manifest, and the
 * canonical messages (`$defs/OutboundMessage`, `$defs/InboundMessage`). For the API's OpenAPI
 * document, the designer and third-party tooling.
 */
export { flowSchema, nodeManifestSchema, messageSchema };
