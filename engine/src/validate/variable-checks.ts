import { analyseTemplate } from './template-analysis.js';
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
    let reported: Set<string> | undefined;
    const report = (path: string, name: string, message: string): void => {
      reported ??= new Set();
      if (reported.has(`${path}|${name}`)) return;
      reported.add(`${path}|${name}`);
      out.push(diagnostic('UNDECLARED_VARIABLE', path, message, { nodeId: node.id }));
    };
    walkStrings(node.params, (keys, value) => {
      const key = keys[keys.length - 1];
      const field = key === 'field' ? variableOf(value) : undefined;
      if (field !== undefined && !declared.has(field)) {
        report(paramPointer(node, keys), field, `${nodeSubject(node)}: the setting "${keys.join('.')}" checks the variable "${field}", which the flow does not declare`);
      }
      if (!value.includes('vars')) return;
      for (const ref of analyseTemplate(value).references) {
        const name = variableOf(ref);
        if (name === undefined || declared.has(name)) continue;
        report(paramPointer(node, keys), name, `${nodeSubject(node)}: the setting "${keys.join('.')}" reads the variable "${name}", which the flow does not declare`);
      }
    });
    const writes = resolved.get(node.index)?.definition.manifest.writesVariables ?? [];
    for (const dotted of writes) {
      const value = getParam(node.params, dotted);
      if (typeof value !== 'string' || value.trim() === '') continue;
      const name = value.trim().replace(/^vars\./, '').split('.')[0] as string;
      if (declared.has(name)) continue;
      report(paramPointer(node, dotted.split('.')), name, `${nodeSubject(node)} saves to the variable "${name}", which the flow does not declare`);
    }
  }
}

const paramPointer = (node: NodeView, keys: readonly string[]): string =>
  `${node.path}/params${keys.map((k) => `/${escapePointer(k)}`).join('')}`;

/** `vars.user.name` -> `user`; anything that does not read a variable -> undefined. */
function variableOf(reference: string): string | undefined {
  const m = /^(?:\.\.\/)*vars\.\[?([^.[\]]+)\]?/.exec(reference.trim());
  return m?.[1];
}

/**
 * Visits every string under a node's params with the keys leading to it. The key list is shared
 * and mutated while walking (copy it to keep it): paths are only built for what gets reported.
 */
function walkStrings(params: unknown, visit: (keys: readonly string[], value: string) => void): void {
  const seen = new Set<object>();
  const keys: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      visit(keys, value);
      return;
    }
    if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        keys.push(String(i));
        walk(value[i], depth + 1);
        keys.pop();
      }
      return;
    }
    for (const k in value) {
      if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
      keys.push(k);
      walk((value as Record<string, unknown>)[k], depth + 1);
      keys.pop();
    }
  };
  walk(params, 0);
}
