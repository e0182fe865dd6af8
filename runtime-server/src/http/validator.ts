import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema } from '@convoflow/engine';
import type { FieldError } from './problem.js';

// ajv-formats is CommonJS; under native ESM its default import is the plugin function itself,
// under a bundler-style interop it is nested in `.default`.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as typeof addFormatsModule;

const COMPONENTS_ID = 'convoflow-api';
const FLOW_FORMATS = ['cron', 'timezone', 'regex'] as const;
const MAX_ERRORS = 50;

/** Checks request bodies and query strings against the API's JSON Schemas. */
export interface RequestValidator {
  /** Errors of a body against the named component schema (empty when valid). */
  body(schemaName: string, value: unknown): FieldError[];
  /** Coerces query strings to the schema's types; returns the typed values or the errors. */
  query(schema: JsonSchema, value: Record<string, unknown>): { value: Record<string, unknown>; errors: FieldError[] };
}

/**
 * Builds the validator over the API components (the same object `/openapi.json` publishes).
 * Compiles lazily, once per schema.
 */
export function createRequestValidator(components: Record<string, JsonSchema>): RequestValidator {
  const options = { allErrors: true, strict: false, validateFormats: true } as const;
  const bodies = new Ajv2020(options);
  addFormats(bodies);
  // Flow documents use these; whether a value is one is the engine validator's call, reported as
  // a diagnostic with the parser's reason (a draft with a bad cron or keyword pattern still saves;
  // publishing it is refused), so here they only need to be known. `regex` in particular means
  // RE2 there, not the JavaScript RegExp of ajv-formats.
  for (const format of FLOW_FORMATS) bodies.addFormat(format, true);
  bodies.addSchema({ $id: COMPONENTS_ID, components: { schemas: components } });
  const queries = new Ajv2020({ ...options, coerceTypes: true, useDefaults: true });
  addFormats(queries);

  const bodyCache = new Map<string, ValidateFunction>();
  const queryCache = new WeakMap<JsonSchema, ValidateFunction>();

  return {
    body(schemaName, value) {
      let check = bodyCache.get(schemaName);
      if (!check) {
        check = bodies.compile({ $ref: `${COMPONENTS_ID}#/components/schemas/${schemaName}` });
        bodyCache.set(schemaName, check);
      }
      return check(value) ? [] : fieldErrors(check.errors ?? [], '');
    },
    query(schema, value) {
      let check = queryCache.get(schema);
      if (!check) {
        check = queries.compile(schema);
        queryCache.set(schema, check);
      }
      const copy = { ...value };
      return check(copy) ? { value: copy, errors: [] } : { value: copy, errors: fieldErrors(check.errors ?? [], 'query', true) };
    },
  };
}

/**
 * Turns ajv errors into field errors: a JSON pointer to the offending member (the missing or
 * unexpected property itself, not its parent), or `query.<name>` for query strings. Pure.
 */
export function fieldErrors(errors: ErrorObject[], base: '' | 'query', dotted = false): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of focusAlternatives(errors)) {
    // `if` only says which `then` failed; that `then` error is reported on its own.
    if (error.keyword === 'if') continue;
    let pointer = error.instancePath;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') pointer += `/${escape(params.missingProperty)}`;
    if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer += `/${escape(params.additionalProperty)}`;
    }
    const field = dotted ? `${base}.${pointer.slice(1).split('/').map(unescape).join('.')}`.replace(/\.$/, '') : pointer || '/';
    const message = describe(error);
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, message });
    if (out.length >= MAX_ERRORS) break;
  }
  return out;
}

const depth = (pointer: string): number => (pointer === '' ? 0 : pointer.split('/').length - 1);
const within = (pointer: string, root: string): boolean => pointer === root || pointer.startsWith(`${root}/`);

/**
 * A failed oneOf/anyOf makes ajv report every branch's errors, most of them noise ("send is
 * required", "advance is not allowed" for a step that meant to be an `advance`). Keep the errors
 * of the branch that got furthest into the value (the deepest ones); when no branch got past the
 * value itself, keep one error for the alternative, naming the required members when that is
 * all the branches disagree on. Pure.
 */
function focusAlternatives(errors: ErrorObject[]): ErrorObject[] {
  let result = errors;
  for (const alt of errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    const root = alt.instancePath;
    const subtree = result.filter((e) => e !== alt && within(e.instancePath, root));
    if (subtree.length === 0) continue;
    const deepest = Math.max(...subtree.map((e) => depth(e.instancePath)));
    if (deepest > depth(root)) {
      result = result.filter((e) => e !== alt && (!subtree.includes(e) || depth(e.instancePath) === deepest));
    } else {
      const missing = subtree.every((e) => e.keyword === 'required')
        ? subtree.map((e) => String((e.params as { missingProperty?: unknown }).missingProperty))
        : undefined;
      const merged: ErrorObject = missing
        ? { ...alt, message: `must have one of: ${[...new Set(missing)].join(', ')}` }
        : alt;
      result = result.filter((e) => !subtree.includes(e)).map((e) => (e === alt ? merged : e));
    }
  }
  return result;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed here';
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'anyOf':
    case 'oneOf':
      return error.message?.startsWith('must have one of') ? error.message : 'must match one of the allowed shapes';
    default:
      return error.message ?? 'is invalid';
  }
}

const escape = (segment: string): string => segment.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (segment: string): string => segment.replace(/~1/g, '/').replace(/~0/g, '~');
