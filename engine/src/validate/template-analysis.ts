import { checkTemplateSyntax, templateReferences, type TemplateSyntaxProblem } from '../templates/render.js';

/** @internal What the validator needs to know about one template string. */
export interface TemplateAnalysis {
  problem: TemplateSyntaxProblem | undefined;
  /** Dotted paths the template reads; empty when it does not parse. */
  references: readonly string[];
}

const PLAIN: TemplateAnalysis = { problem: undefined, references: [] };
const MAX_CACHED = 10_000;
// The designer validates on every edit; most templates are unchanged between two calls, and
// parsing is most of the cost of validating a large flow.
const cache = new Map<string, TemplateAnalysis>();

// `{{ contact.first_name }}`: a mustache holding nothing but a dotted path of plain names.
const SIMPLE_MUSTACHE = /\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}/g;
// Names handlebars reads as keywords or literals rather than paths.
const NOT_A_PATH = new Set(['else', 'this', 'true', 'false', 'null', 'undefined']);

/**
 * @internal
 * Parses a template once and remembers its syntax problem and the paths it reads. Text without
 * `{{` is plain content: it always parses and reads nothing.
 */
export function analyseTemplate(template: string): TemplateAnalysis {
  if (!template.includes('{{')) return PLAIN;
  let analysis = cache.get(template);
  if (!analysis) {
    analysis = simpleTemplate(template) ?? parseTemplate(template);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(template, analysis);
  }
  return analysis;
}

/**
 * Most templates are text with `{{path}}` placeholders. Those are recognised without running
 * handlebars' parser (the slow part of validating a large flow); anything else (blocks, helpers,
 * escapes, whitespace control, a stray `{{`) goes to the real parser.
 */
function simpleTemplate(template: string): TemplateAnalysis | undefined {
  if (template.includes('\\')) return undefined;
  const references: string[] = [];
  let last = 0;
  for (const match of template.matchAll(SIMPLE_MUSTACHE)) {
    // A `{{` between two simple placeholders opens something this fast path does not know.
    const open = template.indexOf('{{', last);
    if (open < match.index) return undefined;
    const path = match[1] as string;
    const head = path.includes('.') ? path.slice(0, path.indexOf('.')) : path;
    if (NOT_A_PATH.has(head)) return undefined;
    if (!references.includes(path)) references.push(path);
    last = match.index + match[0].length;
  }
  return template.includes('{{', last) ? undefined : { problem: undefined, references };
}

function parseTemplate(template: string): TemplateAnalysis {
  const problem = checkTemplateSyntax(template);
  return { problem, references: problem ? [] : templateReferences(template) };
}
