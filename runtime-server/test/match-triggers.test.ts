import type { FlowDefinition, FlowTrigger, InboundMessage, JsonObject } from '@convoflow/engine';
import { foldText, keywordMatches, triggerMatches, type TriggerOccasion } from '../src/triggers/match-triggers.js';
import { TriggerIndex, type ActiveVersion, type TriggerMatch } from '../src/triggers/trigger-index.js';

const message = (text: string, channel: InboundMessage['channel'] = 'whatsapp'): InboundMessage => ({
  id: 'm1',
  channel,
  from: '+85291234567',
  text,
  sentAt: 0,
});

function version(flowId: string, triggers: FlowDefinition['triggers']): ActiveVersion {
  return {
    workspaceId: 'ws',
    flowId,
    version: 1,
    triggers,
    settings: { channels: ['whatsapp'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
  };
}

describe('keyword matching', () => {
  it('should fold case and full-width characters', () => {
    expect(foldText('  ＨＥＬＬＯ   World ')).toBe('hello world');
    expect(keywordMatches({ keywords: ['hello'], match: 'exact' }, 'ＨＥＬＬＯ')).toBe(true);
    expect(keywordMatches({ keywords: ['Menu'], match: 'exact' }, 'menu ')).toBe(true);
  });

  it('should match contains keywords as whole words only', () => {
    const params = { keywords: ['hi'], match: 'contains' };
    expect(keywordMatches(params, 'Hi there')).toBe(true);
    expect(keywordMatches(params, 'oh, hi!')).toBe(true);
    expect(keywordMatches(params, 'Which tent is lightest?')).toBe(false);
    expect(keywordMatches(params, 'this')).toBe(false);
    expect(keywordMatches({ keywords: ['order status'], match: 'contains' }, 'what is my Order  Status?')).toBe(true);
  });

  it('should match keywords in scripts without spaces anywhere in the text', () => {
    expect(keywordMatches({ keywords: ['訂單'], match: 'contains' }, '我想查詢訂單狀態')).toBe(true);
  });

  it('should respect case sensitivity and treat bad regexes as no match', () => {
    expect(keywordMatches({ keywords: ['STOP'], match: 'exact', caseSensitive: true }, 'stop')).toBe(false);
    expect(keywordMatches({ keywords: ['^ord(er)?\\s*#?\\d+$'], match: 'regex' }, 'ORDER #123')).toBe(true);
    expect(keywordMatches({ keywords: ['(unclosed'], match: 'regex' }, '(unclosed')).toBe(false);
  });

  // A backtracking engine takes hours on the first text and longer on the second: a contact could
  // stall every workspace on the server with one message.
  it('should match regex keywords in linear time, even the patterns JavaScript backtracks on', () => {
    const params = { keywords: ['^(a+)+$', '^(\\w+\\s?)*$'], match: 'regex' };
    expect(keywordMatches(params, `${'a'.repeat(40)}!`)).toBe(false);
    expect(keywordMatches(params, `${'word '.repeat(5_000)}!`)).toBe(false);
    expect(keywordMatches(params, 'A'.repeat(40))).toBe(true);
    expect(keywordMatches({ keywords: ['^(a+)+$'], match: 'regex', caseSensitive: true }, 'A'.repeat(40))).toBe(false);
  });

  it('should never match a regex keyword RE2 cannot run (published before the validator checked)', () => {
    expect(keywordMatches({ keywords: ['price(?!less)'], match: 'regex' }, 'price')).toBe(false);
    expect(keywordMatches({ keywords: ['price(?!less)', 'pri.e'], match: 'regex' }, 'price')).toBe(true);
  });

  it('should ignore empty texts and empty keywords', () => {
    expect(keywordMatches({ keywords: [''], match: 'contains' }, 'anything')).toBe(false);
    expect(keywordMatches({ keywords: ['hi'], match: 'exact' }, undefined)).toBe(false);
  });
});

describe('TriggerIndex', () => {
  const matchTriggers = (versions: ActiveVersion[], occasion: TriggerOccasion) => new TriggerIndex(versions).match(occasion);

  const keyword = version('menu', [{ id: 'k', type: 'keyword', params: { keywords: ['menu'], match: 'exact' } }]);
  const anyMessage = version('catch-all', [{ id: 'a', type: 'message.received', params: {} }]);
  const telegramOnly = version('tg', [{ id: 't', type: 'message.received', params: { channels: ['telegram'] } }]);

  it('should let keyword triggers win over catch-all message triggers', () => {
    expect(matchTriggers([keyword, anyMessage], { kind: 'message', message: message('menu') }).map((m) => m.version.flowId)).toEqual(['menu']);
    expect(matchTriggers([keyword, anyMessage], { kind: 'message', message: message('hello') }).map((m) => m.version.flowId)).toEqual(['catch-all']);
  });

  it('should honour the channels of a message trigger', () => {
    expect(matchTriggers([telegramOnly], { kind: 'message', message: message('hi', 'whatsapp') })).toEqual([]);
    expect(matchTriggers([telegramOnly], { kind: 'message', message: message('hi', 'telegram') })).toHaveLength(1);
  });

  it('should fire contact.updated only for the fields it names', () => {
    const watcher = version('w', [{ id: 'u', type: 'contact.updated', params: { fields: ['email'] } }]);
    expect(matchTriggers([watcher], { kind: 'contact', created: false, changedFields: ['name'] })).toEqual([]);
    expect(matchTriggers([watcher], { kind: 'contact', created: false, changedFields: ['email'] })).toHaveLength(1);
    expect(matchTriggers([watcher], { kind: 'contact', created: true, changedFields: ['email'] })).toEqual([]);
  });

  it('should start api, webhook and schedule triggers only for their own flow and trigger', () => {
    const hooks = version('h', [
      { id: 'hook', type: 'webhook', params: { secret: 'x'.repeat(16) } },
      { id: 'nightly', type: 'schedule', params: { cron: '0 2 * * *', timezone: 'UTC' } },
      { id: 'api', type: 'api', params: {} },
    ]);
    expect(matchTriggers([hooks], { kind: 'webhook', flowId: 'h', triggerId: 'hook' })[0]?.trigger.id).toBe('hook');
    expect(matchTriggers([hooks], { kind: 'webhook', flowId: 'other', triggerId: 'hook' })).toEqual([]);
    expect(matchTriggers([hooks], { kind: 'schedule', flowId: 'h', triggerId: 'nightly' })[0]?.trigger.id).toBe('nightly');
    expect(matchTriggers([hooks], { kind: 'api', flowId: 'h' })[0]?.trigger.id).toBe('api');
  });
});

/**
 * What the index must answer: every trigger of every flow tried in order, the first that fires
 * per flow, keyword triggers winning over catch-all ones.
 */
function tryingEveryTrigger(versions: ActiveVersion[], occasion: TriggerOccasion): TriggerMatch[] {
  const matches: TriggerMatch[] = [];
  for (const v of versions) {
    const trigger = v.triggers.find((t) => triggerMatches(t, occasion, v.flowId));
    if (trigger) matches.push({ version: v, trigger });
  }
  return matches.some((m) => m.trigger.type === 'keyword') ? matches.filter((m) => m.trigger.type === 'keyword') : matches;
}

describe('TriggerIndex against trying every trigger', () => {
  // A small seeded generator (mulberry32), so a failure names the case that reproduces it.
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const words = ['menu', 'Menu', 'ＭＥＮＵ', 'order status', 'order  Status', 'hi', 'stop', 'STOP', '訂單', '', ' menu '];
  const channels: InboundMessage['channel'][] = ['whatsapp', 'telegram', 'line'];

  it('should pick the same flows and triggers, in the same order, for any flows and messages', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const next = random(seed);
      const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const trigger = (id: string): FlowTrigger => {
        const listens: JsonObject = next() < 0.3 ? { channels: [pick(channels)] } : {};
        const kind = next();
        if (kind < 0.15) return { id, type: 'message.received', params: listens };
        if (kind < 0.2) return { id, type: 'api', params: {} };
        const match = pick(['exact', 'exact', 'contains', 'regex', undefined]);
        const keywords = match === 'regex' ? [pick(['^men', 'stop$', '(unclosed', 'order\\s+status'])] : [pick(words), pick(words)];
        return { id, type: 'keyword', params: { keywords, ...(match ? { match } : {}), caseSensitive: next() < 0.3, ...listens } };
      };
      const versions = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, f) =>
        version(`f${f}`, Array.from({ length: 1 + Math.floor(next() * 3) }, (_, t) => trigger(`t${t}`))),
      );
      const index = new TriggerIndex(versions);
      for (let m = 0; m < 10; m += 1) {
        const occasion: TriggerOccasion = { kind: 'message', message: message(pick([...words, 'hi there', 'menu!', 'nothing']), pick(channels)) };
        const picked = (matches: TriggerMatch[]) => matches.map((x) => `${x.version.flowId}/${x.trigger.id}`);
        expect({ seed, m, matches: picked(index.match(occasion)) }).toEqual({ seed, m, matches: picked(tryingEveryTrigger(versions, occasion)) });
      }
    }
  });

  it('should find an exact keyword among a thousand flows', () => {
    const versions = Array.from({ length: 1_000 }, (_, i) =>
      version(`f${i}`, [{ id: 'k', type: 'keyword', params: { keywords: [`word${i}`], match: 'exact' } }]),
    );
    const index = new TriggerIndex(versions);
    expect(index.match({ kind: 'message', message: message('WORD731') }).map((m) => m.version.flowId)).toEqual(['f731']);
    expect(index.match({ kind: 'message', message: message('word1000') })).toEqual([]);
  });
});
