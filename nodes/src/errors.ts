/**
 * A node spec is not valid: thrown by `defineNode` when the node package loads, so a broken node
 * never reaches a catalogue. `field` names the spec field at fault.
 */
export class NodeDefinitionError extends Error {
  readonly code = 'NODE_DEFINITION_INVALID';
  constructor(
    readonly nodeType: string,
    readonly field: string,
    message: string,
  ) {
    super(`Node "${nodeType}": ${field} ${message}`);
    this.name = 'NodeDefinitionError';
  }
}

/**
 * A node's params cannot be used at run time though they passed schema validation (an unknown
 * time zone, a rendered date that is not a date). Thrown from a pure behaviour; the engine fails
 * the run with the message.
 */
export class NodeParamsError extends Error {
  readonly code = 'INVALID_NODE_PARAMS';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
    this.name = 'NodeParamsError';
  }
}
