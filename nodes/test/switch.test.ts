import type { JsonObject } from '@convoflow/engine';
import { nodeOutputs, switchNode } from '../src/index.js';
import { resolve, scopeFor } from './support/behaviour.js';

const params: JsonObject = {
  cases: [
    { id: 'vip', label: 'VIP', rule: { field: 'contact.tier', operator: 'equals', value: 'gold' } },
    { id: 'local', label: 'Singapore', rule: { field: 'contact.country', operator: 'equals', value: 'SG' } },
    { id: 'big_cart', rule: { field: 'vars.cartTotal', operator: 'gt', value: 500 } },
  ],
};

describe('switch node', () => {
  it('should have one output per case, then default', () => {
    expect(nodeOutputs(switchNode.manifest, params)).toEqual(['vip', 'local', 'big_cart', 'default']);
  });

  it('should leave by the first case whose rule holds', () => {
    const ctx = scopeFor(switchNode, { params, contact: { tier: 'gold', country: 'SG' }, vars: { cartTotal: 900 } });
    expect(resolve(switchNode, ctx)).toEqual({ output: 'vip', data: { matched: 'vip' } });
    const second = scopeFor(switchNode, { params, contact: { tier: 'silver', country: 'sg' }, vars: { cartTotal: 900 } });
    expect(resolve(switchNode, second).output).toBe('local');
  });

  it('should leave by default when no case holds', () => {
    const ctx = scopeFor(switchNode, { params, contact: { country: 'MY' }, vars: { cartTotal: 20 } });
    expect(resolve(switchNode, ctx)).toEqual({ output: 'default', data: { matched: null } });
  });

  it('should refuse a case named default in its schema', () => {
    expect(() => scopeFor(switchNode, { params: { cases: [{ id: 'default', rule: { all: [] } }] } })).toThrow(/invalid params/);
  });
});
