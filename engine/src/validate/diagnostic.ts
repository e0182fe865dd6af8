import { ERROR_CODES, type DiagnosticCode, type Severity } from '../errors.js';

/**
 * A problem the validator found in a flow. `message` is written for the business user who built
 * the flow; `code` is stable (see `ERROR_CODES` for its help text); `path` is a JSON pointer into
 * the flow document (e.g. `/nodes/3/params/text`) the designer uses to highlight the field.
 */
export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  path: string;
  /** The node the problem belongs to, when it belongs to one. */
  nodeId?: string;
  /** The connection the problem belongs to, when it belongs to one. */
  edgeId?: string;
}

/** Builds a diagnostic with the catalogue's severity for its code. */
export function diagnostic(
  code: DiagnosticCode,
  path: string,
  message: string,
  refs: { nodeId?: string | undefined; edgeId?: string | undefined } = {},
): Diagnostic {
  const d: Diagnostic = { severity: ERROR_CODES[code].severity, code, message, path };
  if (refs.nodeId !== undefined) d.nodeId = refs.nodeId;
  if (refs.edgeId !== undefined) d.edgeId = refs.edgeId;
  return d;
}

/** Escapes one JSON-pointer segment (RFC 6901). */
export const escapePointer = (segment: string | number): string =>
  String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

/** Joins JSON-pointer segments onto a base pointer. */
export const pointer = (base: string, ...segments: (string | number)[]): string =>
  base + segments.map((s) => `/${escapePointer(s)}`).join('');

/**
 * Orders diagnostics: errors first, then by path (array indexes compared as numbers, so
 * `/nodes/2` comes before `/nodes/10`), then by code and message for a stable order.
 */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      comparePaths(a.path, b.path) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0),
  );
}

const rank = (d: Diagnostic): number => (d.severity === 'error' ? 0 : 1);

function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  const as = a.split('/');
  const bs = b.split('/');
  const n = Math.min(as.length, bs.length);
  for (let i = 0; i < n; i++) {
    const x = as[i] as string;
    const y = bs[i] as string;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return as.length - bs.length;
}
