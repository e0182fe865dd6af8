import type { TemplateScope } from '../catalogue/types.js';
import { RUN_LIMITS } from '../limits.js';
import { TemplateError, renderTemplate, renderedTooLong } from '../templates/render.js';

/** A template made only of text and `{{a.b.c}}` paths: literal parts around path lookups. */
interface SimpleTemplate {
  literals: string[];
  paths: string[][];
}

const MUSTACHE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;
const MAX_CACHED = 5_000;
const parsed = new Map<string, SimpleTemplate | null>();

/**
 * Renders a template exactly as `renderTemplate` does (strict, no escaping, no prototype access),
 * taking a shortcut for the common case of text with plain `{{a.b}}` paths: handlebars' per-call
 * set-up costs more than the lookup itself, and templates are rendered on every node entry.
 * Anything else (helpers, blocks, partials, escapes, whitespace control) goes to handlebars.
 *
 * Pure.
 *
 * @internal
 * @throws TemplateError as `renderTemplate` does.
 */
export function renderFast(template: string, scope: TemplateScope): string {
  if (!template.includes('{{')) return template;
  let simple = parsed.get(template);
  if (simple === undefined) {
    simple = parse(template);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(template, simple);
  }
  if (simple === null) return renderTemplate(template, scope);
  let out = simple.literals[0] as string;
  for (let i = 0; i < simple.paths.length; i++) {
    const value = lookup(scope, simple.paths[i] as string[], template);
    if (value !== null && value !== undefined) out += String(value);
    out += simple.literals[i + 1] as string;
    // Checked as it grows: a template naming a long value many times is refused before it is built.
    if (out.length > RUN_LIMITS.maxValueChars) throw renderedTooLong(template);
  }
  return out;
}

function parse(template: string): SimpleTemplate | null {
  const literals: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const match of template.matchAll(MUSTACHE)) {
    literals.push(template.slice(last, match.index));
    paths.push((match[1] as string).split('.'));
    last = match.index + match[0].length;
  }
  literals.push(template.slice(last));
  // Leftover braces mean a construct the shortcut does not know (triple-stash, escapes, a syntax
  // error): handlebars decides.
  const end = literals.length - 1;
  const unsure = literals.some(
    (text, i) => text.includes('{{') || (i < end && (text.endsWith('{') || text.endsWith('\\'))) || (i > 0 && text.startsWith('}')),
  );
  if (unsure) return null;
  return { literals, paths };
}

function lookup(scope: TemplateScope, path: string[], template: string): unknown {
  let at: unknown = scope;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string;
    if (typeof at !== 'object' || at === null || !(segment in at)) {
      const parent = i === 0 ? 'the template scope' : path.slice(0, i).join('.');
      throw new TemplateError(`"${segment}" not defined in ${parent}${i > 0 && (typeof at !== 'object' || at === null) ? ` (${describe(at)})` : ''}`, template);
    }
    // Like handlebars with prototype access off: an inherited property reads as undefined.
    at = Object.prototype.hasOwnProperty.call(at, segment) ? (at as Record<string, unknown>)[segment] : undefined;
  }
  return at;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return `a ${typeof value}`;
}
