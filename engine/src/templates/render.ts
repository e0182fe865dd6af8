import Handlebars from 'handlebars';
import type { TemplateScope } from '../catalogue/types.js';
import { RUN_LIMITS, formatCount } from '../limits.js';

/** A template could not be parsed or rendered (unknown variable in strict mode, bad syntax). */
export class TemplateError extends Error {
  readonly code = 'TEMPLATE_ERROR';
  constructor(
    message: string,
    readonly template: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

// An isolated environment: helpers registered by one embedder never leak into another's templates.
const handlebars = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate<TemplateScope>>();
const MAX_CACHED = 5_000;

const runtimeOptions: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
};

/**
 * Renders a handlebars template in strict mode with prototype access off. Compiled templates are
 * memoised by source, so rendering the same text again costs only the render. The output is at
 * most `RUN_LIMITS.maxValueChars` long.
 *
 * Pure: the output depends only on the arguments.
 *
 * @throws TemplateError when the template does not parse, names a field the scope lacks, or renders
 *   to more than `RUN_LIMITS.maxValueChars` characters.
 * @example
 * renderTemplate('Hi {{contact.name}}', scope) // 'Hi Ada'
 */
export function renderTemplate(template: string, scope: TemplateScope): string {
  if (!template.includes('{{')) return template;
  let fn = compiled.get(template);
  if (!fn) {
    try {
      fn = handlebars.compile<TemplateScope>(template, { strict: true, noEscape: true });
    } catch (err) {
      throw new TemplateError(describe(err), template);
    }
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(template, fn);
  }
  let rendered: string;
  try {
    rendered = fn(scope, runtimeOptions);
  } catch (err) {
    throw new TemplateError(describe(err), template);
  }
  if (rendered.length > RUN_LIMITS.maxValueChars) throw renderedTooLong(template);
  return rendered;
}

/** @internal The error of a template whose output would be longer than RUN_LIMITS allow. */
export function renderedTooLong(template: string): TemplateError {
  return new TemplateError(`the template renders to more than ${formatCount(RUN_LIMITS.maxValueChars)} characters`, template);
}

/** A problem found when parsing a template, with the 1-based line it is on when known. */
export interface TemplateSyntaxProblem {
  message: string;
  line?: number;
}

/**
 * Parses a template without rendering it.
 *
 * @returns the syntax problem, or `undefined` when the template parses.
 */
export function checkTemplateSyntax(template: string): TemplateSyntaxProblem | undefined {
  try {
    handlebars.parse(template);
    return undefined;
  } catch (err) {
    const message = describe(err);
    const line = /line (\d+)/.exec(message)?.[1];
    return line ? { message, line: Number(line) } : { message };
  }
}

/**
 * Lists the dotted paths a template reads (`vars.name`, `contact.email`, ...), for the validator's
 * undeclared-variable check. Returns an empty list for a template that does not parse.
 */
export function templateReferences(template: string): string[] {
  if (!template.includes('{{')) return [];
  let program: hbs.AST.Program;
  try {
    program = handlebars.parse(template);
  } catch {
    return [];
  }
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; original?: unknown; parts?: unknown; data?: boolean };
    if (n.type === 'PathExpression' && typeof n.original === 'string' && !n.data) {
      found.add(n.original.replace(/^this\./, ''));
      return;
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') visit(value);
    }
  };
  visit(program);
  return [...found];
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
}
