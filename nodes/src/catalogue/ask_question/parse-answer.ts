import type { JsonValue } from '@convoflow/engine';

/** The kinds of answer `ask_question` can require. */
export type AnswerType = 'text' | 'number' | 'email' | 'phone' | 'date' | 'choice';

/** Options some answer types need. */
export interface AnswerOptions {
  choices?: string[];
  /** How to read `03/04/2025`: day first (default) or month first. */
  dateOrder?: 'DMY' | 'MDY';
}

/**
 * Reads a reply as an answer of the asked type and normalises it: numbers parsed (`1,250.50`,
 * `12,5`), emails trimmed with the domain lower-cased, phones reduced to `+` and digits
 * (`00` becomes `+`), dates turned into `YYYY-MM-DD` (or full ISO with a time), choices matched by
 * text or number and returned as written in `choices`.
 *
 * Pure.
 *
 * @returns the normalised answer, or `undefined` when the reply is not a valid answer.
 */
export function parseAnswer(text: string, type: AnswerType, options: AnswerOptions = {}): JsonValue | undefined {
  const reply = text.trim();
  if (reply === '') return undefined;
  switch (type) {
    case 'text':
      return reply;
    case 'number':
      return parseNumber(reply);
    case 'email':
      return parseEmail(reply);
    case 'phone':
      return parsePhone(reply);
    case 'date':
      return parseDate(reply, options.dateOrder ?? 'DMY');
    case 'choice':
      return parseChoice(reply, options.choices ?? []);
  }
}

function parseNumber(reply: string): number | undefined {
  let text = reply.replace(/[\s\u00a0]/g, '');
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(text)) text = text.replace(/,/g, '');
  else if (/^[+-]?\d+,\d+$/.test(text)) text = text.replace(',', '.');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$/;

function parseEmail(reply: string): string | undefined {
  if (reply.length > 254 || !EMAIL.test(reply)) return undefined;
  const at = reply.lastIndexOf('@');
  return `${reply.slice(0, at)}@${reply.slice(at + 1).toLowerCase()}`;
}

function parsePhone(reply: string): string | undefined {
  if (!/^[+\d\s().\-/]+$/.test(reply)) return undefined;
  let digits = reply.replace(/[\s().\-/]/g, '');
  let international = false;
  if (digits.startsWith('+')) {
    international = true;
    digits = digits.slice(1);
  } else if (digits.startsWith('00')) {
    international = true;
    digits = digits.slice(2);
  }
  if (!/^\d{7,15}$/.test(digits)) return undefined;
  return international ? `+${digits}` : digits;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function parseDate(reply: string, order: 'DMY' | 'MDY'): string | undefined {
  const iso = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(reply);
  if (iso) {
    const [, y, m, d, time] = iso;
    const date = isoDate(Number(y), Number(m), Number(d));
    return date && time ? `${date}${time.toUpperCase()}` : date;
  }
  const numeric = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(reply);
  if (numeric) {
    const [, a, b, y] = numeric;
    return order === 'DMY' ? isoDate(Number(y), Number(b), Number(a)) : isoDate(Number(y), Number(a), Number(b));
  }
  const yearFirst = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/.exec(reply);
  if (yearFirst) return isoDate(Number(yearFirst[1]), Number(yearFirst[2]), Number(yearFirst[3]));
  const words = reply.toLowerCase().replace(/,/g, ' ').replace(/(\d)(st|nd|rd|th)\b/g, '$1').split(/\s+/);
  if (words.length === 3) {
    const [first = '', second = '', third = ''] = words;
    const month = (word: string): number => MONTHS.findIndex((m) => word.startsWith(m) && word.length >= 3) + 1;
    // "12 March 2025" or "March 12 2025"
    if (/^\d{1,2}$/.test(first) && month(second) > 0 && /^\d{4}$/.test(third)) return isoDate(Number(third), month(second), Number(first));
    if (month(first) > 0 && /^\d{1,2}$/.test(second) && /^\d{4}$/.test(third)) return isoDate(Number(third), month(first), Number(second));
  }
  return undefined;
}

function isoDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function parseChoice(reply: string, choices: string[]): string | undefined {
  const wanted = reply.replace(/\s+/g, ' ').toLowerCase();
  const byText = choices.find((choice) => choice.trim().replace(/\s+/g, ' ').toLowerCase() === wanted);
  if (byText !== undefined) return byText;
  const number = /^(\d{1,2})[.)]?$/.exec(wanted)?.[1];
  return number === undefined ? undefined : choices[Number(number) - 1];
}
