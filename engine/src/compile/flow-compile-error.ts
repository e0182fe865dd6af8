import { ConvoflowError } from '../errors.js';

/** One structural problem that makes a flow impossible to compile. */
export interface FlowCompileProblem {
  code: 'UNKNOWN_NODE_TYPE' | 'DUPLICATE_NODE_ID' | 'EDGE_SOURCE_MISSING' | 'EDGE_TARGET_MISSING' | 'JUMP_TARGET_MISSING' | 'NO_NODES' | 'START_NODE_MISSING';
  message: string;
  nodeId?: string;
  edgeId?: string;
}

/**
 * A flow cannot be compiled: a node type is unknown, an edge or jump points nowhere, ... Only
 * structural problems throw; `validate()` reports everything else as diagnostics.
 *
 * @example
 * try { compile(flow, catalogue) } catch (err) {
 *   if (err instanceof FlowCompileError) console.log(err.problems.map((p) => p.message));
 * }
 */
export class FlowCompileError extends ConvoflowError {
  declare readonly code: 'FLOW_COMPILE_ERROR';
  readonly problems: FlowCompileProblem[];

  constructor(problems: FlowCompileProblem[]) {
    super('FLOW_COMPILE_ERROR', `The flow cannot be compiled: ${problems.map((p) => p.message).join('; ')}`, {
      help: 'The flow has a structural problem (an unknown node type or version, or a connection or jump to a node that does not exist). Run validate() for the full list of diagnostics and fix the nodes named.',
    });
    this.problems = problems;
  }
}
