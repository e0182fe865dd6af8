import type { JsonObject } from '@convoflow/engine';
import { conditionNode } from '../src/index.js';
import { resolve, scopeFor } from './support/behaviour.js';

const contact = { firstName: 'Mei', country: 'SG', tags: ['vip'], cartTotal: '149.90' };

describe('condition node', () => {
  const rules: JsonObject = {
    all: [
      { field: 'contact.country', operator: 'in_list', value: ['SG', 'MY'] },
      { any: [{ field: 'contact.tags', operator: 'contains', value: 'VIP' }, { field: 'vars.orders', operator: 'gte', value: 3 }] },
    ],
  };

  it('should leave by true when the rule holds and record the result', () => {
    const ctx = scopeFor(conditionNode, { params: { rules }, contact, vars: { orders: 0 } });
    expect(resolve(conditionNode, ctx)).toEqual({ output: 'true', data: { result: true } });
  });

  it('should leave by false when it does not', () => {
    const ctx = scopeFor(conditionNode, { params: { rules }, contact: { ...contact, country: 'ID' }, vars: { orders: 5 } });
    expect(resolve(conditionNode, ctx)).toEqual({ output: 'false', data: { result: false } });
  });

  it('should read earlier nodes and the trigger message', () => {
    const params = {
      rules: {
        all: [
          { field: 'nodes.ask_email.status', operator: 'equals', value: 'answered' },
          { field: 'trigger.message.text', operator: 'matches', value: '^(hi|hello)\\b' },
        ],
      },
    };
    const ctx = scopeFor(conditionNode, {
      params,
      nodes: { ask_email: { status: 'answered', answer: 'mei@example.com' } },
      trigger: { message: { text: 'Hello there', channel: 'whatsapp' } },
    });
    expect(resolve(conditionNode, ctx).output).toBe('true');
  });

  it('should compare dates with the time of the event as "now"', () => {
    const params = { rules: { field: 'vars.trialEndsAt', operator: 'before', value: 'now' } };
    const now = Date.UTC(2025, 5, 1);
    expect(resolve(conditionNode, scopeFor(conditionNode, { params, vars: { trialEndsAt: '2025-05-31' }, now })).output).toBe('true');
    expect(resolve(conditionNode, scopeFor(conditionNode, { params, vars: { trialEndsAt: '2025-06-02' }, now })).output).toBe('false');
  });
});
