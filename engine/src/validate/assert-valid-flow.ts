import type { Catalogue } from '../catalogue/types.js';
import type { FlowDefinition } from '../flow/types.js';
import { FlowValidationError } from '../errors.js';
import { validate } from './validate.js';

/**
 * Validates a flow and throws when it has errors; warnings do not throw. Narrows `flow` to a
 * `FlowDefinition` for the code after it.
 *
 * Pure apart from the throw.
 *
 * @throws FlowValidationError with every error diagnostic (code `FLOW_INVALID`).
 * @example
 * assertValidFlow(body, catalogue);
 * const compiled = compile(body, catalogue);
 */
export function assertValidFlow(flow: unknown, catalogue: Catalogue): asserts flow is FlowDefinition {
  const errors = validate(flow, catalogue).filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new FlowValidationError(errors);
}
