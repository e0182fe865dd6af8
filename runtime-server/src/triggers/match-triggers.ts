import { matchesUserPattern, type FlowTrigger, type InboundMessage, type JsonObject } from '@convoflow/engine';

/** What happened, as far as trigger matching is concerned. */
export type TriggerOccasion =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'contact'; created: boolean; changedFields: string[] }
  | { kind: 'api'; flowId: string }
  | { kind: 'webhook'; flowId: string; triggerId: string }
  | { kind: 'schedule'; flowId: string; triggerId: string };

/**
 * Folds case and width (full-width Latin, compatibility forms) so keywords match however the
 * contact's keyboard wrote them.
 */
export function foldText(text: string): string {
  let folded = foldedTexts.get(text);
  if (folded === undefined) {
    folded = text.normalize('NFKC').toLocaleLowerCase('und').trim().replace(/\s+/g, ' ');
    if (text.length <= FOLD_CACHE_TEXT) {
      if (foldedTexts.size >= FOLD_CACHE) foldedTexts.clear();
      foldedTexts.set(text, folded);
    }
  }
  return folded;
}

/**
 * Every message is folded once per keyword trigger and interrupt check, and so is every keyword:
 * the ICU lower-casing showed in profiles. Keywords and short replies repeat, so their folds are
 * kept (at most ~2,000 x 256 characters twice over).
 */
const foldedTexts = new Map<string, string>();
const FOLD_CACHE = 2_000;
const FOLD_CACHE_TEXT = 256;

/** As flow.schema.json caps a keyword. */
const MAX_KEYWORD_PATTERN = 500;

/** The strings of a trigger parameter that should be a list of them. */
export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * What an exact keyword and a message's text are compared by: the text folded as `foldText` does,
 * or, for a case-sensitive keyword, only normalised (NFKC, spaces).
 */
export const exactKeywordKey = (text: string, caseSensitive: boolean): string =>
  caseSensitive ? text.normalize('NFKC').trim().replace(/\s+/g, ' ') : foldText(text);

/** Whether a message trigger listens on the channel a message came by (all, when it names none). */
export function channelAllowed(params: JsonObject, message: InboundMessage): boolean {
  const channels = strings(params.channels);
  return channels.length === 0 || channels.includes(message.channel);
}

/** Whether a keyword trigger's params match the text of a message. */
export function keywordMatches(params: JsonObject, text: string | undefined): boolean {
  if (text === undefined || text === '') return false;
  const match = typeof params.match === 'string' ? params.match : 'exact';
  const caseSensitive = params.caseSensitive === true;
  const keywords = strings(params.keywords);
  if (match === 'regex') {
    const source = text.normalize('NFKC');
    return keywords.some((k) => matchesUserPattern(k, source, { caseSensitive, maxLength: MAX_KEYWORD_PATTERN }));
  }
  const haystack = exactKeywordKey(text, caseSensitive);
  return keywords.some((k) => {
    const needle = exactKeywordKey(k, caseSensitive);
    if (needle === '') return false;
    return match === 'contains' ? containsPhrase(haystack, needle) : haystack === needle;
  });
}

// Scripts written without spaces between words: there a keyword is found anywhere in the text.
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

/**
 * Whether `needle` occurs in `haystack` as whole words: "hi" is in "hi there" and "oh, hi!" but
 * not in "which" or "this". Keywords in scripts without spaces match anywhere.
 */
function containsPhrase(haystack: string, needle: string): boolean {
  if (UNSPACED_SCRIPT.test(needle)) return haystack.includes(needle);
  for (let from = haystack.indexOf(needle); from !== -1; from = haystack.indexOf(needle, from + 1)) {
    const before = from === 0 ? '' : (haystack[from - 1] ?? '');
    const after = haystack[from + needle.length] ?? '';
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) return true;
  }
  return false;
}

/** Whether `trigger`, of the flow `flowId`, fires on `occasion`. */
export function triggerMatches(trigger: FlowTrigger, occasion: TriggerOccasion, flowId: string): boolean {
  const params = trigger.params ?? {};
  switch (occasion.kind) {
    case 'message': {
      if (!channelAllowed(params, occasion.message)) return false;
      if (trigger.type === 'message.received') return true;
      if (trigger.type === 'keyword') return keywordMatches(params, occasion.message.text);
      return false;
    }
    case 'contact': {
      if (trigger.type === 'contact.created') return occasion.created;
      if (trigger.type !== 'contact.updated' || occasion.created) return false;
      const fields = strings(params.fields);
      return fields.length === 0 ? occasion.changedFields.length > 0 : fields.some((f) => occasion.changedFields.includes(f));
    }
    case 'api':
      return trigger.type === 'api' && flowId === occasion.flowId;
    case 'webhook':
      return trigger.type === 'webhook' && flowId === occasion.flowId && trigger.id === occasion.triggerId;
    case 'schedule':
      return trigger.type === 'schedule' && flowId === occasion.flowId && trigger.id === occasion.triggerId;
  }
}
