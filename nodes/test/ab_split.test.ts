import { abSplitNode, nodeOutputs } from '../src/index.js';
import { resolve, scopeFor } from './support/behaviour.js';

const params = { branches: [{ id: 'a', weight: 70 }, { id: 'b', weight: 20 }, { id: 'c', weight: 10 }] };
const pick = (random: number, p = params): string => resolve(abSplitNode, scopeFor(abSplitNode, { params: p, random })).output;

describe('ab_split node', () => {
  it('should have one output per branch', () => {
    expect(nodeOutputs(abSplitNode.manifest, params)).toEqual(['a', 'b', 'c']);
  });

  it('should pick by weight from ctx.random', () => {
    expect(pick(0)).toBe('a');
    expect(pick(0.6999)).toBe('a');
    expect(pick(0.7)).toBe('b');
    expect(pick(0.8999)).toBe('b');
    expect(pick(0.9)).toBe('c');
    expect(pick(0.999999)).toBe('c');
  });

  it('should be deterministic: the same random gives the same branch and records it', () => {
    const ctx = scopeFor(abSplitNode, { params, random: 0.75 });
    expect(resolve(abSplitNode, ctx)).toEqual({ output: 'b', data: { branch: 'b' } });
    expect(resolve(abSplitNode, ctx)).toEqual({ output: 'b', data: { branch: 'b' } });
  });

  it('should never pick a zero-weight branch, and split evenly when every weight is zero', () => {
    const zeroMiddle = { branches: [{ id: 'a', weight: 1 }, { id: 'off', weight: 0 }, { id: 'c', weight: 1 }] };
    for (const r of [0, 0.25, 0.4999, 0.5, 0.75, 0.9999]) expect(pick(r, zeroMiddle)).not.toBe('off');
    const zeroLast = { branches: [{ id: 'a', weight: 0.1 }, { id: 'b', weight: 0.2 }, { id: 'off', weight: 0 }] };
    expect(pick(1 - Number.EPSILON, zeroLast)).toBe('b');
    const allZero = { branches: [{ id: 'a', weight: 0 }, { id: 'b', weight: 0 }] };
    expect([pick(0.1, allZero), pick(0.9, allZero)]).toEqual(['a', 'b']);
  });

  it('should follow the weights over many draws', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 1000; i++) counts[pick((i + 0.5) / 1000)]! += 1;
    expect(counts).toEqual({ a: 700, b: 200, c: 100 });
  });
});
