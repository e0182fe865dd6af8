import { templateReferences } from '../templates/render.js';
import { diagnostic, escapePointer, type Diagnostic } from './diagnostic.js';
import { nodeSubject, type FlowView, type NodeView } from './flow-view.js';
import type { ResolvedNode } from './node-checks.js';
import { getParam } from './outputs.js';

const MAX_DEPTH = 64;

/**
 * @internal
 * Variable checks: names declared once, and every `vars.X` a node reads (in a template or in a
 * condition rule's `field`) or writes (per its manifest's `writesVariables`) is declared.
 */
export function checkVariables(view: FlowView, resolved: Map<number, ResolvedNode>, out: Diagnostic[]): void {
  const declared = new Set<string>();
  for (const variable of view.variables) {
    if (variable.name === undefined) continue;
    if (declared.has(variable.name)) {
      out.push(
        diagnostic('DUPLICATE_VARIABLE', `${variable.path}/name`, `The variable "${variable.name}" is declared more than once`),
      );
    }
    declared.add(variable.name);
  }
  for (const node of view.nodes) {
    if (!node.params) continue;
    const reported = new Set<string>();
    const report = (path: string, name: string, message: string): void => {
      if (declared.has(name) || reported.has(`${path}|${name}`)) return;
      reported.add(`${path}|${name}`);
      out.push(diagnostic('UNDECLARED_VARIABLE', path, message, { nodeId: node.id }));
    };
    walkParams(node, (path, rel, value, key) => {
      if (typeof value !== 'string') return;
      const where = `the setting "${rel}"`;
      if (key === 'field') {
        const name = variableOf(value);
        if (name) report(path, name, `${nodeSubject(node)}: ${where} checks the variable "${name}", which the flow does not declare`);
      }
      if (!value.includes('{{')) return;
      for (const ref of templateReferences(value)) {
        const name = variableOf(ref);
        if (name) report(path, name, `${nodeSubject(node)}: ${where} reads the variable "${name}", which the flow does not declare`);
      }
    });
    const writes = resolved.get(node.index)?.definition.manifest.writesVariables ?? [];
    for (const dotted of writes) {
      const value = getParam(node.params, dotted);
      if (typeof value !== 'string' || value.trim() === '') continue;
      const name = value.trim().replace(/^vars\./, '').split('.')[0] as string;
      const path = `${node.path}/params/${dotted.split('.').map(escapePointer).join('/')}`;
      report(path, name, `${nodeSubject(node)} saves to the variable "${name}", which the flow does not declare`);
    }
  }
}

/** `vars.user.name` -> `user`; anything that does not read a variable -> undefined. */
function variableOf(reference: string): string | undefined {
  const m = /^(?:\.\.\/)*vars\.\[?([^.[\]]+)\]?/.exec(reference.trim());
  return m?.[1];
}

/** Visits every value under a node's params, with its JSON pointer and dotted relative path. */
function walkParams(
  node: NodeView,
  visit: (path: string, rel: string, value: unknown, key: string) => void,
): void {
  const seen = new Set<object>();
  const walk = (value: unknown, path: string, rel: string, key: string, depth: number): void => {
    visit(path, rel, value, key);
    if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}/${i}`, `${rel}.${i}`, String(i), depth + 1));
      return;
    }
    for (const [k, child] of Object.entries(value)) {
      walk(child, `${path}/${escapePointer(k)}`, rel ? `${rel}.${k}` : k, k, depth + 1);
    }
  };
  walk(node.params, `${node.path}/params`, '', '', 0);
}
