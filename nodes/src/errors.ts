import { ConvoflowError } from '@convoflow/engine';

/**
 * A node spec is not valid: thrown by `defineNode` when the node package loads, so a broken node
 * never reaches a catalogue. `field` names the spec field at fault.
 */
export class NodeDefinitionError extends ConvoflowError {
  constructor(
    readonly nodeType: string,
    readonly field: string,
    message: string,
  ) {
    super('NODE_DEFINITION_INVALID', `Node "${nodeType}": ${field} ${message}`, {
      help: 'A node package defines a node type wrongly. The message names the node type and the spec field; this is a bug in the node package, so report it to its author.',
    });
  }
}

/**
 * A node's params cannot be used at run time though they passed schema validation (an unknown
 * time zone, a rendered date that is not a date). Thrown from a pure behaviour; the engine fails
 * the run with its code `INVALID_NODE_PARAMS` and message.
 */
export class NodeParamsError extends ConvoflowError {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super('INVALID_NODE_PARAMS', `${param}: ${message}`);
  }
}
