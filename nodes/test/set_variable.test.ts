import { setVariableNode } from '../src/index.js';
import { resolve, scopeFor } from './support/behaviour.js';

describe('set_variable node', () => {
  it('should set rendered text and typed literals, in order', () => {
    const params = {
      assignments: [
        { variable: 'greeting', value: 'Mei from Singapore' },
        { variable: 'attempts', value: 0 },
        { variable: 'optedIn', value: true },
        { variable: 'cart', value: { items: [], currency: 'SGD' } },
        { variable: 'note', value: null },
      ],
    };
    expect(resolve(setVariableNode, scopeFor(setVariableNode, { params }))).toEqual({
      output: 'next',
      set: { vars: { greeting: 'Mei from Singapore', attempts: 0, optedIn: true, cart: { items: [], currency: 'SGD' }, note: null } },
    });
  });

  it('should convert rendered text when asked', () => {
    const params = {
      assignments: [
        { variable: 'total', value: ' 149.90 ', as: 'number' },
        { variable: 'agreed', value: 'Yes', as: 'boolean' },
        { variable: 'order', value: '{"id":"A1","qty":2}', as: 'json' },
        { variable: 'zip', value: '018956', as: 'string' },
      ],
    };
    expect(resolve(setVariableNode, scopeFor(setVariableNode, { params })).set).toEqual({
      vars: { total: 149.9, agreed: true, order: { id: 'A1', qty: 2 }, zip: '018956' },
    });
  });

  it('should store null and report text that does not convert', () => {
    const params = { assignments: [{ variable: 'total', value: 'about ten', as: 'number' }, { variable: 'raw', value: '{oops', as: 'json' }] };
    expect(resolve(setVariableNode, scopeFor(setVariableNode, { params }))).toEqual({
      output: 'next',
      set: { vars: { total: null, raw: null } },
      data: { invalid: ['total', 'raw'] },
    });
  });

  it('should declare the variables it writes for the validator', () => {
    expect(setVariableNode.manifest.writesVariables).toEqual(['assignments.variable']);
  });

  it('should refuse a variable name that is not an identifier', () => {
    expect(() => scopeFor(setVariableNode, { params: { assignments: [{ variable: 'my var', value: 'x' }] } })).toThrow(/invalid params/);
  });
});
