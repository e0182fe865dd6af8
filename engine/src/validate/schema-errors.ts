import type { ErrorObject } from 'ajv';
import { analyseTemplate } from './template-analysis.js';
import { diagnostic, escapePointer, type Diagnostic } from './diagnostic.js';
import { ISO_DURATION } from './ajv-setup.js';
import { isRecord, nodeSubject, type FlowView } from './flow-view.js';
import { userPatternProblem } from '../patterns/user-pattern.js';
import { cronProblem } from '../schedule/schedule-checks.js';

/** @internal Who a pointer belongs to, for the start of a message. */
interface Subject {
  text: string;
  /** Number of pointer segments that name the subject itself (e.g. 2 for `/nodes/3`). */
  depth: number;
  nodeId?: string | undefined;
  edgeId?: string | undefined;
}

/**
 * @internal
 * Turns the errors ajv reported for the flow document (`scope: 'flow'`, pointers from the root) or
 * for one node's params (`scope: 'params'`, pointers under `base`, e.g. `/nodes/3/params`) into
 * diagnostics a business user can act on: the node named by its label, the field by its title.
 */
export function translateAjvErrors(
  errors: readonly ErrorObject[],
  flow: unknown,
  view: FlowView,
  scope: { kind: 'flow' } | { kind: 'params'; base: string },
): Diagnostic[] {
  const dropped = pickCombinatorBranches(errors);
  // A string both a pattern and a format check (cron, time zone) is explained once, by the format:
  // its message is the parser's own reason, the pattern's only the expected shape.
  const formatted = new Set(errors.filter((e) => e.keyword === 'format').map((e) => e.instancePath));
  for (const error of errors) if (error.keyword === 'pattern' && formatted.has(error.instancePath)) dropped.add(error);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'if' || dropped.has(error)) continue; // a failing `then` reports the real problem
    const d = translate(error, flow, view, scope);
    const key = `${d.code}|${d.path}|${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

/**
 * A failing `anyOf`/`oneOf` reports the errors of every branch, most of them beside the point (a
 * condition leaf missing its `value` also "lacks" `all` and `any`). Keep the branch that came
 * closest, the one with fewest errors, and drop the rest; when no branch is closest, keep only
 * the combinator's own "matches none of the shapes".
 */
function pickCombinatorBranches(errors: readonly ErrorObject[]): Set<ErrorObject> {
  const dropped = new Set<ErrorObject>();
  for (const combinator of errors) {
    if (combinator.keyword !== 'anyOf' && combinator.keyword !== 'oneOf') continue;
    const prefix = `${combinator.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const error of errors) {
      if (!error.schemaPath.startsWith(prefix)) continue;
      const branch = error.schemaPath.slice(prefix.length).split('/')[0] as string;
      const list = branches.get(branch) ?? [];
      list.push(error);
      branches.set(branch, list);
    }
    // Errors from inside a `$ref` carry the referenced schema's path, so a branch may fail with no
    // error under its own path: count it as a branch with no errors of its own (the closest one).
    const count = Array.isArray(combinator.schema) ? combinator.schema.length : 0;
    for (let i = 0; i < count; i++) if (!branches.has(String(i))) branches.set(String(i), []);
    if (branches.size === 0) continue;
    const size = (list: ErrorObject[]): number => list.filter((e) => e.keyword !== 'if').length;
    const ranked = [...branches.values()].sort((a, b) => size(a) - size(b));
    const best = ranked[0]!;
    const unique = ranked.length === 1 || size(best) < size(ranked[1]!);
    for (const list of ranked) {
      if (unique && list === best) continue;
      for (const error of list) dropped.add(error);
    }
    if (unique) dropped.add(combinator);
  }
  return dropped;
}

function translate(
  error: ErrorObject,
  flow: unknown,
  view: FlowView,
  scope: { kind: 'flow' } | { kind: 'params'; base: string },
): Diagnostic {
  const isParams = scope.kind === 'params';
  const base = isParams ? scope.base : '';
  let path = base + error.instancePath;
  const segments = splitPointer(path);
  const subject = subjectOf(segments, flow, view);
  // For params, field names are relative to `params`, not to the node.
  const fieldStart = isParams ? subject.depth + 1 : subject.depth;
  let rel = segments.slice(fieldStart);
  const noun = isParams ? 'setting' : 'field';
  const parent = isRecord(error.parentSchema) ? error.parentSchema : {};
  let title = titleOf(parent);
  let field = fieldName(rel, title, noun);
  let code: Diagnostic['code'] = isParams ? 'INVALID_NODE_PARAMS' : 'SCHEMA_VIOLATION';
  let problem: string;
  const p = error.params as Record<string, unknown>;

  switch (error.keyword) {
    case 'required':
    case 'dependentRequired': {
      const missing = String(p.missingProperty);
      path = `${path}/${escapePointer(missing)}`;
      rel = [...rel, missing];
      const props = isRecord(parent.properties) ? parent.properties : {};
      title = titleOf(props[missing]);
      field = fieldName(rel, title, noun);
      problem = 'is missing';
      break;
    }
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      path = `${path}/${escapePointer(extra)}`;
      problem = `has an unknown ${noun} "${extra}"`;
      if (rel.length === 0) {
        field = '';
        title = undefined;
      }
      break;
    }
    case 'type':
      problem = `must be ${typePhrase(p.type)}`;
      break;
    case 'enum':
      problem = `must be one of ${listPhrase(p.allowedValues)}`;
      break;
    case 'const':
      problem = `must be ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'minLength':
      problem = p.limit === 1 ? 'is empty' : `must be at least ${String(p.limit)} characters long`;
      break;
    case 'maxLength':
      problem = `is too long (at most ${String(p.limit)} characters)`;
      break;
    case 'minItems':
      problem = p.limit === 1 ? 'needs at least one item' : `needs at least ${String(p.limit)} items`;
      break;
    case 'maxItems':
      problem = `has too many items (at most ${String(p.limit)})`;
      break;
    case 'uniqueItems':
      problem = `lists the same value twice (items ${Number(p.j) + 1} and ${Number(p.i) + 1})`;
      break;
    case 'minimum':
      problem = `must be at least ${String(p.limit)}`;
      break;
    case 'maximum':
      problem = `must be at most ${String(p.limit)}`;
      break;
    case 'exclusiveMinimum':
      problem = `must be greater than ${String(p.limit)}`;
      break;
    case 'exclusiveMaximum':
      problem = `must be less than ${String(p.limit)}`;
      break;
    case 'pattern':
      problem = patternPhrase(String(p.pattern));
      break;
    case 'format':
      if (p.format === 'template') {
        code = 'TEMPLATE_SYNTAX';
        problem = templatePhrase(typeof error.data === 'string' ? error.data : '');
      } else {
        problem = formatPhrase(String(p.format), error.data);
      }
      break;
    case 'anyOf':
    case 'oneOf':
      problem = 'does not match any of the allowed shapes';
      break;
    case 'not':
      problem = 'has a value that is not allowed';
      break;
    default:
      problem = error.message ?? `does not satisfy "${error.keyword}"`;
  }
  if (field && title && isPlural(title) && !/ #\d+$/.test(field)) problem = pluralVerb(problem);
  const message = field ? `${subject.text}: ${field} ${problem}` : `${subject.text} ${problem}`;
  return diagnostic(code, path, message, { nodeId: subject.nodeId, edgeId: subject.edgeId });
}

function subjectOf(segments: string[], flow: unknown, view: FlowView): Subject {
  const [head, index] = segments;
  const root = isRecord(flow) ? flow : {};
  const list = head !== undefined && Array.isArray(root[head]) ? (root[head] as unknown[]) : undefined;
  const i = index !== undefined && /^\d+$/.test(index) ? Number(index) : -1;
  const item = list && i >= 0 ? list[i] : undefined;
  const rec = isRecord(item) ? item : {};
  const id = typeof rec.id === 'string' ? rec.id : undefined;
  if (head === 'nodes' && i >= 0) {
    const node = view.nodes.find((n) => n.index === i);
    return { text: nodeSubject(node ?? { name: `#${i + 1}` }), depth: 2, nodeId: node?.id };
  }
  if (head === 'edges' && i >= 0) {
    return { text: id ? `Connection "${id}"` : `Connection #${i + 1}`, depth: 2, edgeId: id };
  }
  if (head === 'triggers' && i >= 0) {
    const type = typeof rec.type === 'string' ? ` (${rec.type})` : '';
    return { text: `Trigger #${i + 1}${type}`, depth: 2 };
  }
  if (head === 'variables' && i >= 0) {
    const name = typeof rec.name === 'string' && rec.name ? `"${rec.name}"` : `#${i + 1}`;
    return { text: `Variable ${name}`, depth: 2 };
  }
  if (head === 'settings') return { text: 'Flow settings', depth: 1 };
  return { text: 'The flow', depth: 0 };
}

// "the connections are missing", "the trigger settings have an unknown field".
const isPlural = (title: string): boolean => /[^s]s$/i.test(title.trim());
const PLURAL_VERBS: Record<string, string> = { is: 'are', needs: 'need', has: 'have', lists: 'list', does: 'do' };
const pluralVerb = (problem: string): string => problem.replace(/^(is|needs|has|lists|does)\b/, (verb) => PLURAL_VERBS[verb] ?? verb);

function splitPointer(path: string): string[] {
  if (!path) return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function titleOf(schema: unknown): string | undefined {
  return isRecord(schema) && typeof schema.title === 'string' && schema.title ? schema.title : undefined;
}

/** `the question text`, `keyword 2`, `the setting "saveTo.variable"`; '' for the subject itself. */
function fieldName(rel: string[], title: string | undefined, noun: string): string {
  if (rel.length === 0) return '';
  const last = rel[rel.length - 1] as string;
  const isItem = /^\d+$/.test(last);
  if (title) return isItem ? `${lowerFirst(title)} #${Number(last) + 1}` : `the ${lowerFirst(title)}`;
  if (isItem) {
    const container = rel.slice(0, -1).join('.');
    return container ? `item #${Number(last) + 1} of the ${noun} "${container}"` : `item #${Number(last) + 1}`;
  }
  return `the ${noun} "${rel.join('.')}"`;
}

// Keep acronyms (URL, API) as they are; lower only ordinary capitalised words.
const lowerFirst = (s: string): string => (/^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s);

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'empty (null)',
};

function typePhrase(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',');
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

function listPhrase(values: unknown): string {
  const list = Array.isArray(values) ? values : [];
  return list.map((v) => JSON.stringify(v)).join(', ');
}

const KNOWN_PATTERNS: Record<string, string> = {
  '^[A-Za-z_][A-Za-z0-9_]*$': 'must start with a letter or "_" and contain only letters, digits and "_"',
  '^[A-Za-z0-9_-]{1,64}$': 'may contain only letters, digits, "_" and "-" (1 to 64 characters)',
  [ISO_DURATION.source]: 'must be a duration such as PT24H (24 hours), PT30M (30 minutes) or P2D (2 days)',
  '^\\s*\\S+(\\s+\\S+){4,5}\\s*$': 'must be a cron expression of 5 or 6 fields, such as "0 9 * * 1-5"',
  '^(UTC|[A-Za-z]+(/[A-Za-z0-9_+-]+){1,2})$': 'must be a time zone such as Europe/Paris or UTC',
};

function patternPhrase(pattern: string): string {
  return KNOWN_PATTERNS[pattern] ?? 'does not have the expected format';
}

const FORMAT_WORDS: Record<string, string> = {
  duration: 'must be a duration such as PT24H (24 hours), PT30M (30 minutes) or P2D (2 days)',
  'date-time': 'must be a date and time such as 2024-05-01T09:00:00Z',
  date: 'must be a date such as 2024-05-01',
  time: 'must be a time such as 09:30:00Z',
  email: 'must be an email address',
  uri: 'must be a web address (URL)',
  url: 'must be a web address (URL)',
  regex: 'is not a regular expression Convoflow can run (RE2 syntax: no lookahead, lookbehind or backreferences)',
  timezone: 'is not a time zone this server knows: use an IANA name such as Europe/Paris or America/New_York, or UTC',
  uuid: 'must be a UUID',
};

/** What is wrong with `value` for `format`: the parser's own reason where there is one. */
function formatPhrase(format: string, value: unknown): string {
  const text = typeof value === 'string' ? value : undefined;
  if (format === 'regex' && text !== undefined) return userPatternProblem(text) ?? FORMAT_WORDS.regex!;
  if (format === 'cron' && text !== undefined) {
    return `is not a cron expression the scheduler takes: it ${cronProblem(text) ?? 'does not parse'}; write 5 or 6 fields, such as "0 9 * * 1-5"`;
  }
  return FORMAT_WORDS[format] ?? `must be a valid ${format}`;
}

/** `is not a valid template (line 2): a "{{" is not closed with "}}"`. */
function templatePhrase(template: string): string {
  const problem = analyseTemplate(template).problem;
  const line = problem?.line !== undefined ? ` (line ${problem.line})` : '';
  return `is not a valid template${line}: ${templateHint(template)}`;
}

function templateHint(template: string): string {
  const opens = template.split('{{').length - 1;
  const closes = template.split('}}').length - 1;
  if (opens > closes) return 'a "{{" is not closed with "}}"';
  if (closes > opens) return 'a "}}" has no opening "{{"';
  const counts = new Map<string, number>();
  for (const m of template.matchAll(/\{\{~?\s*([#/])\s*([A-Za-z_][\w-]*)/g)) {
    const name = m[2] as string;
    counts.set(name, (counts.get(name) ?? 0) + (m[1] === '#' ? 1 : -1));
  }
  for (const [name, count] of counts) {
    if (count > 0) return `{{#${name}}} is not closed with {{/${name}}}`;
    if (count < 0) return `{{/${name}}} has no matching {{#${name}}}`;
  }
  return 'check the placeholders between "{{" and "}}"';
}
