import type { Diagnostic } from './validate/diagnostic.js';

/** How serious a diagnostic is: errors block compiling and publishing, warnings do not. */
export type Severity = 'error' | 'warning';

/** One entry of the code catalogue. `severity` is set for codes the validator reports. */
export interface ErrorCodeInfo {
  title: string;
  help: string;
  severity?: Severity;
}

/**
 * The one catalogue of Convoflow's stable codes, with help text written for the person who has to
 * fix the problem. Diagnostics (from `validate`) and thrown errors share it, so the designer, the
 * API and the logs all explain a code the same way.
 */
export const ERROR_CODES = {
  // Diagnostics reported by validate(): the flow document.
  SCHEMA_VIOLATION: {
    severity: 'error',
    title: 'The flow document has an invalid field',
    help: 'A field is missing, has the wrong type or a value that is not allowed. The message names the field; fix it in the node or flow settings it belongs to.',
  },
  NO_TRIGGER: {
    severity: 'warning',
    title: 'The flow has no trigger',
    help: 'Without a trigger nothing starts the flow. Add one (a keyword, any incoming message, a contact change, a schedule, a webhook or an API call).',
  },
  DUPLICATE_VARIABLE: {
    severity: 'error',
    title: 'A variable is declared twice',
    help: 'Each variable name must be unique within a flow. Rename or remove one of the two declarations.',
  },
  UNDECLARED_VARIABLE: {
    severity: 'warning',
    title: 'A variable is used but not declared',
    help: 'A node reads or writes vars.<name> but the flow does not declare that variable. Add it under Variables (with a type and default) so it has a value before it is first set.',
  },
  // Diagnostics: nodes.
  DUPLICATE_NODE_ID: {
    severity: 'error',
    title: 'Two nodes have the same id',
    help: 'Node ids must be unique: connections, jumps and templates (nodes.<id>.*) refer to nodes by id. Give one of the nodes a new id.',
  },
  UNKNOWN_NODE_TYPE: {
    severity: 'error',
    title: 'Unknown node type',
    help: 'The node type is not in this workspace\'s catalogue. Install the package that provides it, or replace the node.',
  },
  UNKNOWN_NODE_VERSION: {
    severity: 'error',
    title: 'Unknown node version',
    help: 'The node type exists but not in this version. Update the node to a version the catalogue provides, or install the package version that provides it.',
  },
  DEPRECATED_NODE_VERSION: {
    severity: 'warning',
    title: 'Deprecated node version',
    help: 'This node version still runs but is kept only for old flows. Replace the node with the current version when you next edit the flow.',
  },
  INVALID_NODE_PARAMS: {
    severity: 'error',
    title: 'A node setting is invalid',
    help: 'A setting of the node is missing or has a value the node does not accept. The message names the setting.',
  },
  NODE_MANIFEST_INVALID: {
    severity: 'error',
    title: 'A node type has an invalid settings schema',
    help: 'The settings schema in the node type\'s manifest cannot be compiled, so its settings cannot be checked. This is a bug in the node package: report it to its author.',
  },
  TEMPLATE_SYNTAX: {
    severity: 'error',
    title: 'A template has a syntax error',
    help: 'Templates use {{...}} placeholders such as {{contact.name}} or {{vars.email}}. Check that every "{{" is closed with "}}" and every {{#if}} or {{#each}} block is closed with {{/if}} or {{/each}}.',
  },
  JUMP_TARGET_MISSING: {
    severity: 'error',
    title: 'A jump goes nowhere',
    help: 'A jump node must name an existing node of the flow as its target. Pick a target node.',
  },
  REPLY_TIMEOUT_NOT_WIRED: {
    severity: 'error',
    title: 'A wait for a reply has no timeout path',
    help: 'Every node that waits for the contact\'s reply has a "timeout" output. Connect it (for example to a reminder or an end node) so the conversation does not stop silently when the contact never answers.',
  },
  CHANNEL_UNSUPPORTED: {
    severity: 'warning',
    title: 'A node cannot render on one of the flow\'s channels',
    help: 'The node is not supported on every channel the flow runs on. Use a node that works everywhere, or branch by channel before it.',
  },
  DUPLICATE_OUTPUT: {
    severity: 'error',
    title: 'A node offers the same output twice',
    help: 'Outputs made from a list setting (such as buttons) must have unique ids. Give each item its own id.',
  },
  // Diagnostics: connections and the graph.
  DUPLICATE_EDGE_ID: {
    severity: 'error',
    title: 'Two connections have the same id',
    help: 'Connection ids must be unique. Delete one of the connections and draw it again.',
  },
  EDGE_SOURCE_MISSING: {
    severity: 'error',
    title: 'A connection starts at a node that does not exist',
    help: 'The connection refers to a node that was deleted or renamed. Delete the connection.',
  },
  EDGE_TARGET_MISSING: {
    severity: 'error',
    title: 'A connection ends at a node that does not exist',
    help: 'The connection refers to a node that was deleted or renamed. Delete the connection and connect the output again.',
  },
  UNKNOWN_OUTPUT: {
    severity: 'error',
    title: 'A connection starts at an output the node does not have',
    help: 'The node has no output of that name (for example a button was removed). Delete the connection, or connect one of the node\'s current outputs.',
  },
  OUTPUT_WIRED_TWICE: {
    severity: 'error',
    title: 'An output is connected twice',
    help: 'Each output leads to exactly one next node. Delete one of the connections; to do two things, chain them one after the other.',
  },
  NO_ENTRY_NODE: {
    severity: 'error',
    title: 'The flow has no first node',
    help: 'The first node is the one no connection leads to. Add a node, or remove the connection that leads back into the first node (use a jump node to go back instead).',
  },
  UNREACHABLE_NODE: {
    severity: 'warning',
    title: 'A node can never be reached',
    help: 'No path from the first node leads to this node, so it never runs. Connect it or delete it.',
  },
  LOOP_WITHOUT_WAIT: {
    severity: 'error',
    title: 'A loop never waits',
    help: 'These nodes lead back to each other without any node that waits (a message, a question, a delay), so a run would spin forever. Add a wait inside the loop or break it.',
  },
  VALIDATOR_FAILED: {
    severity: 'error',
    title: 'The flow could not be checked',
    help: 'The validator met something it could not handle. The flow is treated as invalid; please report this with the flow document.',
  },
  // Errors thrown or reported at compile and run time.
  FLOW_INVALID: {
    title: 'The flow is not valid',
    help: 'The flow has errors that prevent it from running. Each diagnostic names the node and field to fix.',
  },
  FLOW_COMPILE_ERROR: {
    title: 'The flow could not be compiled',
    help: 'The flow passed validation but could not be turned into a state machine. Please report this with the flow document.',
  },
  TEMPLATE_ERROR: {
    title: 'A template could not be rendered',
    help: 'A template names a field the run does not have (templates are strict), or does not parse. Check the spelling of the placeholder, or declare the variable with a default.',
  },
  LOOP_LIMIT: {
    severity: 'error',
    title: 'A run went through too many nodes in one step',
    help: 'The run passed the per-step node limit without waiting, which points to a loop. Add a wait inside the loop.',
  },
  NODE_FAILED: {
    title: 'A node failed',
    help: 'A node\'s action failed (for example a request returned an error). Connect the node\'s failure output to handle it; retryable failures are retried first.',
  },
  STORAGE_ERROR: {
    title: 'The store failed',
    help: 'Reading or writing runs failed. Check the database connection and disk space; the operation can be retried.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every stable code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes `validate` reports. */
export type DiagnosticCode = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C] extends { severity: Severity } ? C : never;
}[ErrorCode];

/**
 * Looks up the catalogue entry of a code; unknown codes (custom node errors) get a generic entry.
 *
 * @example
 * helpFor('REPLY_TIMEOUT_NOT_WIRED').title // 'A wait for a reply has no timeout path'
 */
export function helpFor(code: string): ErrorCodeInfo {
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code)
    ? ERROR_CODES[code as ErrorCode]
    : { title: code, help: 'No help is recorded for this code.' };
}

/** Options every Convoflow error accepts. */
export interface ConvoflowErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's help text, e.g. for a custom code. */
  help?: string;
}

/**
 * Base of every error Convoflow throws. `code` is stable (safe to branch on and to show in UIs);
 * `help` says how to fix it, from the `ERROR_CODES` catalogue.
 *
 * @example
 * try { assertValidFlow(flow, catalogue) } catch (err) {
 *   if (err instanceof ConvoflowError) console.log(err.code, err.help);
 * }
 */
export class ConvoflowError extends Error {
  readonly code: string;
  readonly help: string;

  constructor(code: ErrorCode | (string & {}), message: string, options: ConvoflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.help = options.help ?? helpFor(code).help;
  }
}

/**
 * The flow has errors. `diagnostics` holds every error found; `path` is the JSON pointer of the
 * first one, for callers that can highlight a single field.
 */
export class FlowValidationError extends ConvoflowError {
  readonly diagnostics: Diagnostic[];
  readonly path: string;

  constructor(diagnostics: Diagnostic[], options: ConvoflowErrorOptions = {}) {
    const count = diagnostics.length;
    const head = diagnostics
      .slice(0, 3)
      .map((d) => d.message)
      .join('; ');
    const more = count > 3 ? `; and ${count - 3} more` : '';
    super('FLOW_INVALID', `The flow has ${count} ${count === 1 ? 'error' : 'errors'}: ${head}${more}`, options);
    this.diagnostics = diagnostics;
    this.path = diagnostics[0]?.path ?? '';
  }
}

/** A node's action failed. `retryable` says whether performing it again may succeed. */
export class NodeExecutionError extends ConvoflowError {
  readonly nodeId: string;
  readonly retryable: boolean;

  constructor(
    nodeId: string,
    message: string,
    options: ConvoflowErrorOptions & { retryable?: boolean; code?: string } = {},
  ) {
    super(options.code ?? 'NODE_FAILED', message, options);
    this.nodeId = nodeId;
    this.retryable = options.retryable ?? false;
  }
}

/** Reading or writing the store failed. */
export class StorageError extends ConvoflowError {
  constructor(message: string, options: ConvoflowErrorOptions & { code?: string } = {}) {
    super(options.code ?? 'STORAGE_ERROR', message, options);
  }
}
