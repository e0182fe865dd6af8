import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  CONDITION_OPERATORS,
  CONDITION_OPERATOR_INFO,
  CONDITION_RULE_ANCHOR,
  ConditionError,
  ConvoflowError,
  conditionFields,
  conditionRuleRef,
  conditionRuleSchema,
  evaluateCondition,
  readPath,
  type ConditionRule,
  type TemplateScope,
} from '../src/index.js';

const scope: TemplateScope = {
  contact: {
    name: 'Ada Lovelace',
    email: 'ADA@example.com',
    country: 'SG',
    age: '36',
    score: 72.5,
    vip: true,
    tags: ['vip', 'Newsletter'],
    empty: '',
    blank: '   ',
    nothing: null,
    noTags: [],
    signedUpAt: '2024-03-01T09:30:00Z',
    birthday: '1815-12-10',
  },
  vars: { cartTotal: 120, orderId: 'ORD-001', lastSeen: 1_700_000_000_000, nested: { level: { deep: 'yes' } } },
  trigger: { message: { text: 'Hello, I want a REFUND please', channel: 'whatsapp' } },
  nodes: { ask_1: { status: 'answered', answer: '42' }, http_1: { status: 200 } },
  run: { id: 'run-1', startedAt: 1_700_000_000_000 },
};

const leaf = (field: string, operator: string, value?: unknown, caseSensitive?: boolean): ConditionRule =>
  ({ field, operator, ...(value === undefined ? {} : { value }), ...(caseSensitive ? { caseSensitive } : {}) }) as ConditionRule;
const check = (rule: ConditionRule, now?: number): boolean => evaluateCondition(rule, scope, now === undefined ? {} : { now });

describe('evaluateCondition: text operators', () => {
  it('should compare equals case-insensitively by default', () => {
    expect(check(leaf('contact.email', 'equals', 'ada@EXAMPLE.com'))).toBe(true);
    expect(check(leaf('contact.email', 'equals', 'ada@example.com', true))).toBe(false);
    expect(check(leaf('contact.email', 'equals', 'ADA@example.com', true))).toBe(true);
  });

  it('should treat not_equals as the exact negation of equals, including on missing fields', () => {
    expect(check(leaf('contact.country', 'not_equals', 'sg'))).toBe(false);
    expect(check(leaf('contact.country', 'not_equals', 'MY'))).toBe(true);
    expect(check(leaf('contact.missing', 'not_equals', 'x'))).toBe(true);
    expect(check(leaf('contact.missing', 'equals', 'x'))).toBe(false);
  });

  it('should compare numbers with numeric strings numerically in equals', () => {
    expect(check(leaf('contact.age', 'equals', 36))).toBe(true);
    expect(check(leaf('vars.cartTotal', 'equals', '120.0'))).toBe(true);
    expect(check(leaf('nodes.http_1.status', 'equals', 200))).toBe(true);
  });

  it('should compare booleans with their text', () => {
    expect(check(leaf('contact.vip', 'equals', true))).toBe(true);
    expect(check(leaf('contact.vip', 'equals', 'TRUE'))).toBe(true);
    expect(check(leaf('contact.vip', 'equals', false))).toBe(false);
  });

  it('should match null only against missing or null fields', () => {
    expect(check(leaf('contact.nothing', 'equals', null))).toBe(true);
    expect(check(leaf('contact.missing', 'equals', null))).toBe(true);
    expect(check(leaf('contact.name', 'equals', null))).toBe(false);
  });

  it('should find substrings with contains and list members when the field is a list', () => {
    expect(check(leaf('trigger.message.text', 'contains', 'refund'))).toBe(true);
    expect(check(leaf('trigger.message.text', 'contains', 'refund', true))).toBe(false);
    expect(check(leaf('contact.tags', 'contains', 'newsletter'))).toBe(true);
    expect(check(leaf('contact.tags', 'contains', 'news'))).toBe(false);
    expect(check(leaf('trigger.message.text', 'not_contains', 'cancel'))).toBe(true);
    expect(check(leaf('contact.missing', 'not_contains', 'x'))).toBe(true);
  });

  it('should test prefixes and suffixes', () => {
    expect(check(leaf('vars.orderId', 'starts_with', 'ord-'))).toBe(true);
    expect(check(leaf('vars.orderId', 'starts_with', 'ord-', true))).toBe(false);
    expect(check(leaf('trigger.message.text', 'ends_with', 'PLEASE'))).toBe(true);
    expect(check(leaf('vars.cartTotal', 'ends_with', '20'))).toBe(true);
    expect(check(leaf('contact.missing', 'starts_with', 'a'))).toBe(false);
  });
});

describe('evaluateCondition: matches', () => {
  it('should match a regular expression, ignoring case by default', () => {
    expect(check(leaf('vars.orderId', 'matches', '^ord-\\d{3}$'))).toBe(true);
    expect(check(leaf('vars.orderId', 'matches', '^ord-\\d{3}$', true))).toBe(false);
    expect(check(leaf('contact.email', 'matches', '@example\\.com$'))).toBe(true);
  });

  it('should be false for an invalid pattern instead of throwing', () => {
    expect(check(leaf('vars.orderId', 'matches', '(unclosed'))).toBe(false);
    expect(check(leaf('vars.orderId', 'matches', '[z-a]'))).toBe(false);
  });

  it('should be false for a pattern longer than the cap', () => {
    expect(check(leaf('vars.orderId', 'matches', `ORD|${'x'.repeat(300)}`))).toBe(false);
  });

  it('should answer patterns that backtrack catastrophically in JavaScript, rightly (RE2 runs them)', () => {
    const attack: TemplateScope = { ...scope, contact: { name: `${'a'.repeat(40)}!` } };
    expect(evaluateCondition(leaf('contact.name', 'matches', '^(a+)+$'), attack)).toBe(false);
    expect(evaluateCondition(leaf('contact.name', 'matches', '^(a|a)*$'), attack)).toBe(false);
    expect(evaluateCondition(leaf('contact.name', 'matches', '^(a+)+!$'), attack)).toBe(true);
    expect(check(leaf('vars.orderId', 'matches', '^(ord)-(\\d)+$'))).toBe(true);
  });

  it('should never match a non-string pattern or an object field', () => {
    expect(check(leaf('vars.orderId', 'matches', 5))).toBe(false);
    expect(check(leaf('vars.nested', 'matches', '.*'))).toBe(false);
  });
});

describe('evaluateCondition: numbers', () => {
  it('should compare numbers and coerce numeric strings', () => {
    expect(check(leaf('vars.cartTotal', 'gt', 100))).toBe(true);
    expect(check(leaf('vars.cartTotal', 'gt', '120'))).toBe(false);
    expect(check(leaf('vars.cartTotal', 'gte', '120'))).toBe(true);
    expect(check(leaf('contact.age', 'lt', 40))).toBe(true);
    expect(check(leaf('contact.score', 'lte', '72.5'))).toBe(true);
    expect(check(leaf('nodes.ask_1.answer', 'gt', 41.9))).toBe(true);
  });

  it('should be false when either side is not a number', () => {
    expect(check(leaf('contact.name', 'gt', 1))).toBe(false);
    expect(check(leaf('contact.name', 'lt', 1))).toBe(false);
    expect(check(leaf('vars.cartTotal', 'gt', 'many'))).toBe(false);
    expect(check(leaf('contact.missing', 'lte', 0))).toBe(false);
    expect(check(leaf('contact.empty', 'gte', 0))).toBe(false);
  });
});

describe('evaluateCondition: presence', () => {
  it('should treat missing, null, blank text and empty lists as not set', () => {
    for (const field of ['contact.missing', 'contact.nothing', 'contact.empty', 'contact.blank', 'contact.noTags']) {
      expect(check(leaf(field, 'is_set'))).toBe(false);
      expect(check(leaf(field, 'is_not_set'))).toBe(true);
    }
  });

  it('should treat false and zero as set', () => {
    const local: TemplateScope = { ...scope, vars: { off: false, zero: 0 } };
    expect(evaluateCondition(leaf('vars.off', 'is_set'), local)).toBe(true);
    expect(evaluateCondition(leaf('vars.zero', 'is_set'), local)).toBe(true);
  });
});

describe('evaluateCondition: lists', () => {
  it('should test membership in a list value', () => {
    expect(check(leaf('contact.country', 'in_list', ['my', 'sg', 'id']))).toBe(true);
    expect(check(leaf('contact.country', 'in_list', ['MY', 'ID']))).toBe(false);
    expect(check(leaf('contact.country', 'in_list', ['sg'], true))).toBe(false);
    expect(check(leaf('vars.cartTotal', 'in_list', ['100', '120']))).toBe(true);
  });

  it('should accept a comma-separated list', () => {
    expect(check(leaf('contact.country', 'in_list', 'MY, SG ,ID'))).toBe(true);
    expect(check(leaf('contact.country', 'not_in_list', 'MY, ID'))).toBe(true);
  });

  it('should test each item when the field itself is a list', () => {
    expect(check(leaf('contact.tags', 'in_list', ['gold', 'VIP']))).toBe(true);
    expect(check(leaf('contact.tags', 'not_in_list', ['gold', 'silver']))).toBe(true);
    expect(check(leaf('contact.noTags', 'in_list', ['vip']))).toBe(false);
  });
});

describe('evaluateCondition: dates', () => {
  it('should compare ISO dates and date-times', () => {
    expect(check(leaf('contact.signedUpAt', 'after', '2024-01-01'))).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'before', '2024-03-01T09:30:00.001Z'))).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'before', '2024-03-01T17:29:00+08:00'))).toBe(false);
    expect(check(leaf('contact.birthday', 'before', '1900-01-01'))).toBe(true);
  });

  it('should read a date-time without offset as UTC', () => {
    expect(check(leaf('contact.signedUpAt', 'after', '2024-03-01T09:29:59'))).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'before', '2024-03-01 09:30:01'))).toBe(true);
  });

  it('should compare epoch milliseconds, as numbers or numeric strings', () => {
    expect(check(leaf('vars.lastSeen', 'before', '2024-01-01'))).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'after', 1_700_000_000_000))).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'after', '1700000000000'))).toBe(true);
  });

  it('should compare with "now" only when the caller provides it', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(check(leaf('contact.signedUpAt', 'before', 'now'), now)).toBe(true);
    expect(check(leaf('contact.signedUpAt', 'after', 'now'), now)).toBe(false);
    expect(check(leaf('contact.signedUpAt', 'before', 'now'))).toBe(false);
  });

  it('should be false for text that is not a date, or an impossible date', () => {
    expect(check(leaf('contact.name', 'before', '2030-01-01'))).toBe(false);
    expect(check(leaf('contact.signedUpAt', 'after', '2024-02-30'))).toBe(false);
    expect(check(leaf('contact.signedUpAt', 'after', 'yesterday'))).toBe(false);
  });
});

describe('evaluateCondition: groups and paths', () => {
  it('should combine all, any and not', () => {
    const rule: ConditionRule = {
      all: [
        { field: 'contact.country', operator: 'equals', value: 'SG' },
        { any: [leaf('vars.cartTotal', 'gte', 500), leaf('contact.tags', 'contains', 'vip')] },
        { not: leaf('trigger.message.text', 'contains', 'stop') },
      ],
    };
    expect(check(rule)).toBe(true);
    expect(check({ not: rule })).toBe(false);
  });

  it('should treat an empty all as true and an empty any as false', () => {
    expect(check({ all: [] })).toBe(true);
    expect(check({ any: [] })).toBe(false);
  });

  it('should read nested paths and array indices but never prototype properties', () => {
    expect(check(leaf('vars.nested.level.deep', 'equals', 'yes'))).toBe(true);
    expect(check(leaf('contact.tags.1', 'equals', 'newsletter'))).toBe(true);
    expect(check(leaf('contact.__proto__', 'is_set'))).toBe(false);
    expect(check(leaf('vars.constructor', 'is_set'))).toBe(false);
    expect(check(leaf('contact.tags.length', 'is_set'))).toBe(false);
    expect(readPath(scope, 'nodes.ask_1.status')).toBe('answered');
  });

  it('should throw a ConditionError naming where a malformed rule is wrong', () => {
    const bad = { all: [leaf('vars.a', 'is_set'), { field: 'vars.b', operator: 'resembles', value: 1 }] } as unknown as ConditionRule;
    expect(() => check(bad)).toThrow(ConditionError);
    expect(() => check(bad)).toThrow('/all/1/operator');
    try {
      check(bad);
    } catch (err) {
      expect(err).toBeInstanceOf(ConvoflowError);
      expect(err).toMatchObject({ code: 'CONDITION_INVALID', path: '/all/1/operator', help: expect.stringContaining('condition') });
    }
    expect(() => check({ any: 'nope' } as unknown as ConditionRule)).toThrow('/any');
    expect(() => check({ operator: 'is_set' } as unknown as ConditionRule)).toThrow('/field');
    // Even where evaluation would short-circuit before reaching the bad rule.
    const hidden = { any: [leaf('contact.country', 'equals', 'SG'), { not: { field: 'vars.b' } }] } as unknown as ConditionRule;
    expect(() => check(hidden)).toThrow('/any/1/not/operator');
  });

  it('should refuse rules nested deeper than the limit', () => {
    let rule: ConditionRule = leaf('vars.cartTotal', 'is_set');
    for (let i = 0; i < 40; i++) rule = { not: rule };
    expect(() => check(rule)).toThrow(/deeper/);
  });
});

describe('conditionFields', () => {
  it('should list every field once, in order, through all group kinds', () => {
    const rule: ConditionRule = {
      any: [
        leaf('contact.country', 'equals', 'SG'),
        { all: [leaf('vars.cartTotal', 'gt', 1), { not: leaf('nodes.ask_1.answer', 'is_set') }] },
        leaf('contact.country', 'equals', 'MY'),
      ],
    };
    expect(conditionFields(rule)).toEqual(['contact.country', 'vars.cartTotal', 'nodes.ask_1.answer']);
  });

  it('should tolerate malformed rules', () => {
    expect(conditionFields({ all: [null, { field: 3 }] } as unknown as ConditionRule)).toEqual([]);
  });
});

describe('conditionRuleSchema', () => {
  const newAjv = () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    ajv.addFormat('template', true);
    return ajv;
  };
  const conditionParams = { type: 'object', properties: { rules: conditionRuleSchema }, required: ['rules'], additionalProperties: false };
  const switchParams = {
    type: 'object',
    properties: {
      cases: {
        type: 'array',
        items: {
          type: 'object',
          properties: { id: { type: 'string' }, rule: conditionRuleSchema, fallback: conditionRuleRef },
          required: ['id', 'rule'],
          additionalProperties: false,
        },
      },
    },
    required: ['cases'],
    additionalProperties: false,
  };

  it('should compile under Ajv2020 strict mode wherever it is embedded, in one Ajv instance', () => {
    const ajv = newAjv();
    const validateCondition = ajv.compile(conditionParams);
    const validateSwitch = ajv.compile(switchParams);
    const rule = { all: [leaf('vars.a', 'equals', 'x'), { not: { any: [leaf('vars.b', 'is_set')] } }] };
    expect(validateCondition({ rules: rule })).toBe(true);
    expect(validateSwitch({ cases: [{ id: 'a', rule, fallback: rule }] })).toBe(true);
    expect(validateSwitch({ cases: [{ id: 'a', rule: { all: [{ field: 'vars.a' }] } }] })).toBe(false);
    expect(ajv.compile(conditionParams)({ rules: { any: [] } })).toBe(true);
    expect(validateCondition({ rules: { not: { all: [{ any: [{ field: 'vars.a', operator: 'nope' }] }] } } })).toBe(false);
  });

  it('should reject unknown operators, extra keys and mixed groups', () => {
    const validate = newAjv().compile(conditionParams);
    expect(validate({ rules: leaf('vars.a', 'resembles', 'x') })).toBe(false);
    expect(validate({ rules: { ...leaf('vars.a', 'equals', 'x'), script: 'x' } })).toBe(false);
    expect(validate({ rules: { all: [], any: [] } })).toBe(false);
    expect(validate({ rules: leaf('vars a', 'is_set') })).toBe(false);
  });

  it('should require a value for every operator except is_set and is_not_set', () => {
    const validate = newAjv().compile(conditionParams);
    for (const operator of CONDITION_OPERATORS) {
      const needsValue = CONDITION_OPERATOR_INFO[operator].value !== 'none';
      expect({ operator, valid: validate({ rules: leaf('vars.a', operator) }) }).toEqual({ operator, valid: !needsValue });
    }
  });

  it('should check the value type per operator', () => {
    const validate = newAjv().compile(conditionParams);
    expect(validate({ rules: leaf('vars.a', 'in_list', ['a', 1, true]) })).toBe(true);
    expect(validate({ rules: leaf('vars.a', 'in_list', 'a,b') })).toBe(true);
    expect(validate({ rules: leaf('vars.a', 'in_list', true) })).toBe(false);
    expect(validate({ rules: leaf('vars.a', 'matches', 5) })).toBe(false);
    expect(validate({ rules: leaf('vars.a', 'gt', true) })).toBe(false);
    expect(validate({ rules: leaf('vars.a', 'equals', ['a']) })).toBe(false);
  });

  it('should carry a stable anchor a designer can recognise, and be plain JSON', () => {
    expect(conditionRuleSchema.$dynamicAnchor).toBe(CONDITION_RULE_ANCHOR);
    expect(JSON.parse(JSON.stringify(conditionRuleSchema))).toEqual(conditionRuleSchema);
  });
});
