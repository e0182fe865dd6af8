/**
 * Flow validation: the JSON Schema check, per-node params and the rules of a runnable flow.
 * @module
 */
export { validate } from './validate.js';
export { assertValidFlow } from './assert-valid-flow.js';
export { sortDiagnostics } from './diagnostic.js';
export type { Diagnostic } from './diagnostic.js';
export { resolveOutputs, getParam } from './outputs.js';
export { entryNodeId } from './graph-checks.js';
export { flowSchema, nodeManifestSchema, messageSchema } from './flow-schema.js';
