import { ERROR_CODES, createCatalogue, validate } from '../src/index.js';
import type { Catalogue, Diagnostic, NodeDefinition } from '../src/index.js';
import { end, validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';
import { prng } from './fixtures/prng.js';

const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));

function expectWellFormed(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) {
    expect(KNOWN_CODES.has(d.code)).toBe(true);
    expect(['error', 'warning']).toContain(d.severity);
    expect(d.path === '' || d.path.startsWith('/')).toBe(true);
    expect(typeof d.message).toBe('string');
    expect(d.message.length).toBeGreaterThan(0);
  }
}

const JUNK: unknown[] = [null, undefined, 0, -1, 1.5, NaN, '', 'x', '{{', true, [], [1, 'a'], {}, { a: 1 }, { __proto__: null }];

/** Replaces one randomly chosen value somewhere in the document by junk. */
function mutate(doc: unknown, random: () => number): unknown {
  const copy = structuredClone(doc) as Record<string, unknown>;
  const containers: [Record<string, unknown> | unknown[], string | number][] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach((v, i) => (containers.push([value, i]), collect(v)));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        containers.push([value as Record<string, unknown>, k]);
        collect(v);
      }
    }
  };
  collect(copy);
  const [container, key] = containers[Math.floor(random() * containers.length)]!;
  const junk = JUNK[Math.floor(random() * JUNK.length)];
  (container as Record<string | number, unknown>)[key] = structuredClone(junk);
  return copy;
}

describe('validate: never throws', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'flow'],
    ['an array', [1, 2, 3]],
    ['an empty object', {}],
    ['nodes of junk', { nodes: [null, 1, 'a', [], { id: 3 }], edges: [null, { source: 5 }], variables: 'x', settings: [] }],
    ['params that are not objects', { ...validFlow(), nodes: [{ id: 'a', type: 'send_text', typeVersion: 2, position: { x: 0, y: 0 }, params: 'x' }] }],
    ['a fractional version', { ...validFlow(), nodes: [{ id: 'a', type: 'send_text', typeVersion: 1.5, position: { x: 0, y: 0 }, params: {} }] }],
    ['prototype keys', JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{}},"nodes":[{"__proto__":{}}]}') as unknown],
  ])('should return diagnostics for %s', (_name, input) => {
    const diagnostics = validate(input, validateCatalogue);
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expectWellFormed(diagnostics);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should cope with circular params', () => {
    const flow = validFlow();
    const params = flow.nodes[0]!.params as Record<string, unknown>;
    params.self = params;
    const diagnostics = validate(flow, validateCatalogue);
    expect(diagnostics.map((d) => d.code)).toEqual(['INVALID_NODE_PARAMS']);
    expect(diagnostics[0]!.path).toBe('/nodes/0/params/self');
  });

  it('should cope with very deep params', () => {
    const flow = validFlow();
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 5_000; i++) deep = (deep.next = {}) as Record<string, unknown>;
    (flow.nodes[0]!.params as Record<string, unknown>).deep = root as never;
    expectWellFormed(validate(flow, validateCatalogue));
  });

  it('should cope with a long chain of nodes without overflowing the stack', () => {
    const flow = validFlow();
    const n = 20_000;
    flow.nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'set_variable', typeVersion: 1, position: { x: 0, y: i }, params: { variable: 'email', value: 'x' } }));
    flow.edges = Array.from({ length: n - 1 }, (_, i) => ({ id: `e${i}`, source: `n${i}`, sourceOutput: 'next', target: `n${i + 1}` }));
    flow.edges.push({ id: 'back', source: `n${n - 1}`, sourceOutput: 'next', target: 'n1' });
    const diagnostics = validate(flow, validateCatalogue);
    expect(diagnostics.map((d) => d.code)).toEqual(['LOOP_WITHOUT_WAIT']);
  });

  it('should turn a throwing getter into a diagnostic instead of an exception', () => {
    const flow = validFlow() as unknown as Record<string, unknown>;
    Object.defineProperty(flow, 'nodes', {
      enumerable: true,
      get() {
        throw new Error('exploding getter');
      },
    });
    const diagnostics = validate(flow, validateCatalogue);
    expect(diagnostics).toEqual([
      { severity: 'error', code: 'VALIDATOR_FAILED', path: '', message: 'The flow could not be checked: exploding getter' },
    ]);
  });

  it('should survive a broken catalogue', () => {
    const broken = {
      get: () => undefined,
      list: () => {
        throw new Error('catalogue offline');
      },
    } as Catalogue;
    expect(validate(validFlow(), broken).map((d) => d.code)).toEqual(['VALIDATOR_FAILED']);
  });

  it('should report NODE_MANIFEST_INVALID for a node whose manifest schema does not compile', () => {
    const bad: NodeDefinition = {
      manifest: { ...end.manifest, params: { type: 'object', properties: { x: { type: 'nonsense' } } } },
      behaviour: { kind: 'end' },
    };
    const catalogue = createCatalogue([...validateCatalogue.list().filter((d) => d.manifest.type !== 'end'), bad]);
    const diagnostics = validate(validFlow(), catalogue);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', code: 'NODE_MANIFEST_INVALID', path: '/nodes/7/type', nodeId: 'bye' });
    expect(diagnostics[0]!.message).toContain('Node "Bye": the settings of "End" cannot be checked');
  });

  it('should never throw on 400 random corruptions of a valid flow', () => {
    const random = prng(20240501);
    let doc: unknown = validFlow();
    for (let i = 0; i < 400; i++) {
      const input = mutate(i % 10 === 0 ? validFlow() : doc, random);
      let diagnostics: Diagnostic[] = [];
      expect(() => (diagnostics = validate(input, validateCatalogue))).not.toThrow();
      expectWellFormed(diagnostics);
      expect(diagnostics.some((d) => d.code === 'VALIDATOR_FAILED')).toBe(false);
      doc = input;
    }
  });
});
