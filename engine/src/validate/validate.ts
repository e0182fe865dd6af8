import type { Catalogue } from '../catalogue/types.js';
import { diagnostic, sortDiagnostics, type Diagnostic } from './diagnostic.js';
import { checkEdges } from './edge-checks.js';
import { flowSchemaValidator } from './flow-schema.js';
import { readFlow } from './flow-view.js';
import { checkGraph } from './graph-checks.js';
import { checkNodes } from './node-checks.js';
import { translateAjvErrors } from './schema-errors.js';
import { checkVariables } from './variable-checks.js';

/**
 * Checks a flow document against the flow JSON Schema, each node's manifest and the rules of a
 * runnable flow (reachability, loops that never wait, unwired reply timeouts, ...), and returns
 * every problem found. Messages name nodes by their label and fields by their title, for the
 * business user who built the flow; `code` and `path` are stable for programs.
 *
 * Pure, and never throws: any input, however malformed, yields diagnostics. Sorted errors first,
 * then by path.
 *
 * @example
 * const problems = validate(flow, catalogue);
 * const blocking = problems.filter((d) => d.severity === 'error');
 * // [{ severity: 'error', code: 'REPLY_TIMEOUT_NOT_WIRED', path: '/nodes/2', nodeId: 'ask_email',
 * //    message: 'The output "timeout" of node "Ask email" is not connected: ...' }]
 */
export function validate(flow: unknown, catalogue: Catalogue): Diagnostic[] {
  try {
    return sortDiagnostics(runChecks(flow, catalogue));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return [diagnostic('VALIDATOR_FAILED', '', `The flow could not be checked: ${reason}`)];
  }
}

function runChecks(flow: unknown, catalogue: Catalogue): Diagnostic[] {
  const out: Diagnostic[] = [];
  const view = readFlow(flow);
  const schema = flowSchemaValidator();
  if (!schema(flow)) out.push(...translateAjvErrors(schema.errors ?? [], flow, view, { kind: 'flow' }));
  if (!view.isObject) return out;
  if (view.hasTriggersArray && view.triggerCount === 0) {
    out.push(diagnostic('NO_TRIGGER', '/triggers', 'The flow has no trigger, so nothing will start it: add one (a keyword, an incoming message, a schedule, ...)'));
  }
  const resolved = checkNodes(flow, view, catalogue, out);
  checkVariables(view, resolved, out);
  const edges = checkEdges(view, resolved, out);
  checkGraph(view, resolved, edges, out);
  return out;
}
