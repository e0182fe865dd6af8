import { compileUserPattern, MAX_USER_PATTERN_LENGTH, userPatternProblem, UserPatternError, validate } from '../src/index.js';
import type { Diagnostic, FlowDefinition } from '../src/index.js';
import { validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';

const test = (pattern: string, text: string, caseSensitive = false) => compileUserPattern(pattern, { caseSensitive }).test(text);

describe('compileUserPattern: JavaScript syntax, RE2 matching', () => {
  it('should match anywhere in the text, as RegExp.test does', () => {
    expect(test('\\border\\s*#?\\d+', 'Where is ORDER #1234?')).toBe(true);
    expect(test('^order$', 'my order')).toBe(false);
    expect(test('colou?r', 'COLOR', true)).toBe(false);
    expect(test('colou?r', 'COLOR')).toBe(true);
  });

  it('should fold Unicode case and read JavaScript escapes and named groups', () => {
    expect(test('ÉTÉ', 'un été chaud')).toBe(true);
    expect(test('\\u00e9t\\u00e9', 'été')).toBe(true);
    expect(test('(?<word>hi)\\s+there', 'HI there')).toBe(true);
    expect(test('\\p{Lu}{2}', 'Ab', true)).toBe(false);
    expect(test('\\p{Lu}{2}', 'AB', true)).toBe(true);
  });

  // Each of these holds a backtracking engine for longer than the test runner waits; under RE2
  // they answer, rightly, as soon as the text is read.
  it('should answer the patterns that backtrack catastrophically, and answer them right', () => {
    const attack = `${'a'.repeat(50_000)}!`;
    expect(test('^(a+)+$', attack)).toBe(false);
    expect(test('^(a+)+$', 'a'.repeat(50_000))).toBe(true);
    expect(test('^(a|a)*$', attack)).toBe(false);
    expect(test('^(a|aa)+$', attack)).toBe(false);
    expect(test('(.*a){12}$', `${'a'.repeat(5_000)}b`)).toBe(false);
    expect(test('^(\\w+\\s?)*$', `${'word '.repeat(10_000)}!`)).toBe(false);
  });

  it('should refuse what RE2 cannot run, saying why and naming lookaround and backreferences', () => {
    expect(() => compileUserPattern('a(?=b)', { caseSensitive: false })).toThrow(UserPatternError);
    expect(userPatternProblem('a(?=b)')).toMatch(/^is not a regular expression Convoflow can run: .*\(\?=.*lookahead, lookbehind and backreferences are not supported/);
    expect(userPatternProblem('(?<!a)b')).toMatch(/lookbehind/);
    expect(userPatternProblem('(a)\\1')).toMatch(/backreferences/);
    expect(userPatternProblem('(unclosed')).toMatch(/^is not a regular expression Convoflow can run: missing closing \)/);
    expect(userPatternProblem('a{2000}')).toMatch(/invalid repeat count/);
    expect(userPatternProblem('x'.repeat(MAX_USER_PATTERN_LENGTH + 1))).toBe(`is longer than ${MAX_USER_PATTERN_LENGTH} characters`);
    expect(userPatternProblem('^ord(er)?\\s*#?\\d+$')).toBeUndefined();
  });

  it('should give the same answer from its cache as from a fresh compile, both cases', () => {
    expect(test('abc', 'ABC', true)).toBe(false);
    expect(test('abc', 'ABC', false)).toBe(true);
    expect(test('abc', 'ABC', true)).toBe(false);
    expect(() => compileUserPattern('(', { caseSensitive: true })).toThrow(UserPatternError);
    expect(() => compileUserPattern('(', { caseSensitive: true })).toThrow(/missing closing/);
  });
});

describe('validate: patterns are checked as they will run', () => {
  const errorsAt = (flow: FlowDefinition, path: string): Diagnostic[] =>
    validate(flow, validateCatalogue).filter((d) => d.severity === 'error' && d.path === path);

  it('should refuse a keyword trigger pattern with lookahead, at the keyword', () => {
    const flow = validFlow();
    flow.triggers = [{ id: 'k', type: 'keyword', params: { keywords: ['^ord(er)?\\d+$', 'price(?!less)'], match: 'regex' } }];
    expect(errorsAt(flow, '/triggers/0/params/keywords/0')).toEqual([]);
    const [d] = errorsAt(flow, '/triggers/0/params/keywords/1');
    expect(d?.message).toMatch(/not a regular expression Convoflow can run: .*lookahead/);
  });

  it('should refuse a condition rule pattern with a backreference, at the rule value', () => {
    const flow = validFlow();
    flow.nodes.find((n) => n.id === 'check')!.params.rules = { field: 'vars.email', operator: 'matches', value: '(a)\\1' };
    const found = validate(flow, validateCatalogue).filter((d) => d.code === 'INVALID_NODE_PARAMS');
    expect(found).toEqual([expect.objectContaining({ nodeId: 'check', path: '/nodes/2/params/rules/value', message: expect.stringMatching(/backreferences/) })]);
  });

  it('should take a pattern JavaScript would backtrack on: RE2 runs it safely', () => {
    const flow = validFlow();
    flow.triggers = [{ id: 'k', type: 'keyword', params: { keywords: ['^(a+)+$'], match: 'regex' } }];
    expect(validate(flow, validateCatalogue).filter((d) => d.severity === 'error')).toEqual([]);
  });
});
