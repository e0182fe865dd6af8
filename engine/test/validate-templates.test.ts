import { checkTemplateSyntax, templateReferences, validate } from '../src/index.js';
import { validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';

// The validator recognises simple templates without handlebars' parser; it must agree with it.
const TEMPLATES = [
  'plain text',
  'Hi {{contact.name}}',
  'Hi {{ contact.name }}, your code is {{vars.code}}.',
  '{{nodes.ask-1.answer}} and {{nodes.ask_1.answer}}',
  'braces } and }} alone',
  '{{contact.name}}{{contact.name}}',
  '{{vars.a.b.c}}',
  'Hi {{contact.name}',
  'Hi {{contact.name}} {{',
  '{{ }}',
  '{{else}}',
  '{{true}} {{null}}',
  '{{this.name}}',
  '{{#if vars.vip}}VIP {{vars.name}}{{/if}}',
  '{{#each vars.items}}{{name}}{{/each}}',
  '{{#if vars.vip}}unclosed',
  '\\{{vars.escaped}} {{vars.real}}',
  '{{~vars.trim~}}',
  '{{{vars.raw}}}',
  '{{! a comment }} {{vars.after}}',
  '{{vars.[first name]}}',
  '{{lookup vars "x"}}',
];

describe('validate: templates', () => {
  it.each(TEMPLATES)('should judge %j as handlebars does', (template) => {
    const flow = validFlow();
    flow.nodes[3]!.params.text = template;
    flow.variables.push(
      ...['a', 'code', 'vip', 'name', 'items', 'escaped', 'real', 'trim', 'raw', 'after'].map((name) => ({ name, type: 'string' as const })),
    );
    const diagnostics = validate(flow, validateCatalogue);
    const syntaxOk = checkTemplateSyntax(template) === undefined;
    expect(diagnostics.some((d) => d.code === 'TEMPLATE_SYNTAX')).toBe(!syntaxOk);
    const undeclared = diagnostics.filter((d) => d.code === 'UNDECLARED_VARIABLE').map((d) => /variable "([^"]+)"/.exec(d.message)?.[1]);
    const expected = syntaxOk
      ? [...new Set(templateReferences(template).filter((r) => r.startsWith('vars.')).map((r) => r.slice(5).split('.')[0]!.replace(/^\[|\]$/g, '')))]
      : [];
    const declared = new Set(flow.variables.map((v) => v.name));
    expect(undeclared.sort()).toEqual(expected.filter((name) => !declared.has(name)).sort());
  });
});
