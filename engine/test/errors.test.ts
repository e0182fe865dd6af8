import {
  ConvoflowError,
  ERROR_CODES,
  FlowValidationError,
  NodeExecutionError,
  StorageError,
  helpFor,
  validate,
} from '../src/index.js';
import type { Diagnostic } from '../src/index.js';

const DIAGNOSTIC_CODES = [
  'SCHEMA_VIOLATION',
  'UNKNOWN_NODE_TYPE',
  'UNKNOWN_NODE_VERSION',
  'INVALID_NODE_PARAMS',
  'DUPLICATE_NODE_ID',
  'DUPLICATE_EDGE_ID',
  'EDGE_SOURCE_MISSING',
  'EDGE_TARGET_MISSING',
  'UNKNOWN_OUTPUT',
  'OUTPUT_WIRED_TWICE',
  'NO_TRIGGER',
  'UNREACHABLE_NODE',
  'NO_ENTRY_NODE',
  'LOOP_WITHOUT_WAIT',
  'REPLY_TIMEOUT_NOT_WIRED',
  'TEMPLATE_SYNTAX',
  'UNDECLARED_VARIABLE',
  'JUMP_TARGET_MISSING',
  'DEPRECATED_NODE_VERSION',
  'DUPLICATE_VARIABLE',
  'CHANNEL_UNSUPPORTED',
] as const;

const WARNINGS = ['NO_TRIGGER', 'UNREACHABLE_NODE', 'UNDECLARED_VARIABLE', 'DEPRECATED_NODE_VERSION', 'CHANNEL_UNSUPPORTED'];

describe('ERROR_CODES', () => {
  it('should describe every diagnostic code with a severity, a title and help', () => {
    for (const code of DIAGNOSTIC_CODES) {
      const entry = ERROR_CODES[code];
      expect(entry.title.length).toBeGreaterThan(5);
      expect(entry.help.length).toBeGreaterThan(20);
      expect(entry.severity).toBe(WARNINGS.includes(code) ? 'warning' : 'error');
    }
  });

  it('should describe the runtime error codes', () => {
    for (const code of ['TEMPLATE_ERROR', 'FLOW_COMPILE_ERROR', 'LOOP_LIMIT', 'NODE_FAILED', 'FLOW_INVALID', 'STORAGE_ERROR'] as const) {
      expect(ERROR_CODES[code].help.length).toBeGreaterThan(20);
    }
  });

  it('should use each code as its own key, in upper snake case', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^[A-Z][A-Z_]+$/);
  });

  it('should give a generic entry for a code it does not know', () => {
    expect(helpFor('ACME_CRM_DOWN')).toEqual({ title: 'ACME_CRM_DOWN', help: 'No help is recorded for this code.' });
    expect(helpFor('LOOP_LIMIT').title).toBe('A run went through too many nodes in one step');
  });
});

describe('ConvoflowError', () => {
  it('should carry a stable code, the catalogue help and its cause', () => {
    const cause = new Error('disk full');
    const error = new ConvoflowError('LOOP_LIMIT', 'Run r1 passed 1000 nodes in one step', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConvoflowError');
    expect(error.code).toBe('LOOP_LIMIT');
    expect(error.help).toBe(ERROR_CODES.LOOP_LIMIT.help);
    expect(error.cause).toBe(cause);
  });

  it('should let a subclass keep its own name and code, as FlowCompileError will', () => {
    class FlowCompileProblemError extends ConvoflowError {
      constructor(message: string) {
        super('FLOW_COMPILE_ERROR', message);
      }
    }
    const error = new FlowCompileProblemError('no machine');
    expect(error).toBeInstanceOf(ConvoflowError);
    expect(error.name).toBe('FlowCompileProblemError');
    expect(error.help).toBe(ERROR_CODES.FLOW_COMPILE_ERROR.help);
  });

  it('should accept a custom code with its own help', () => {
    const error = new ConvoflowError('ACME_CRM_DOWN', 'CRM unreachable', { help: 'Check the CRM status page.' });
    expect(error.help).toBe('Check the CRM status page.');
  });
});

describe('FlowValidationError', () => {
  const diagnostics: Diagnostic[] = [
    { severity: 'error', code: 'REPLY_TIMEOUT_NOT_WIRED', path: '/nodes/1', nodeId: 'ask', message: 'First problem' },
    { severity: 'error', code: 'TEMPLATE_SYNTAX', path: '/nodes/2/params/text', nodeId: 'hi', message: 'Second problem' },
    { severity: 'error', code: 'NO_ENTRY_NODE', path: '/nodes', message: 'Third problem' },
    { severity: 'error', code: 'DUPLICATE_VARIABLE', path: '/variables/1/name', message: 'Fourth problem' },
  ];

  it('should hold the diagnostics, the first path and a summary message', () => {
    const error = new FlowValidationError(diagnostics);
    expect(error).toBeInstanceOf(ConvoflowError);
    expect(error.name).toBe('FlowValidationError');
    expect(error.code).toBe('FLOW_INVALID');
    expect(error.diagnostics).toBe(diagnostics);
    expect(error.path).toBe('/nodes/1');
    expect(error.message).toBe('The flow has 4 errors: First problem; Second problem; Third problem; and 1 more');
  });

  it('should be what validate() diagnostics turn into', () => {
    const found = validate(null, { get: () => undefined, list: () => [] });
    const error = new FlowValidationError(found);
    expect(error.message).toBe('The flow has 1 error: The flow must be an object');
    expect(error.path).toBe('');
  });
});

describe('NodeExecutionError and StorageError', () => {
  it('should tie a node failure to its node, not retryable unless said', () => {
    const error = new NodeExecutionError('http_1', 'Request failed with 500');
    expect(error).toBeInstanceOf(ConvoflowError);
    expect(error.code).toBe('NODE_FAILED');
    expect(error.nodeId).toBe('http_1');
    expect(error.retryable).toBe(false);
    expect(new NodeExecutionError('http_1', 'Timed out', { retryable: true, code: 'HTTP_TIMEOUT' })).toMatchObject({
      retryable: true,
      code: 'HTTP_TIMEOUT',
    });
  });

  it('should give storage failures their own code', () => {
    const error = new StorageError('database is locked');
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.name).toBe('StorageError');
    expect(error.help).toBe(ERROR_CODES.STORAGE_ERROR.help);
  });
});
