/** A wall-clock date and time in some time zone. `weekday` is ISO: 1 Monday ... 7 Sunday. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second?: number;
  millisecond?: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * True when `timeZone` is an IANA zone name this runtime knows (`Asia/Singapore`, `UTC`).
 *
 * @internal
 */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The wall time at instant `epochMs` in `timeZone`, with its ISO weekday.
 *
 * Pure (Intl with a fixed zone; no clock read).
 *
 * @internal
 */
export function wallTimeAt(epochMs: number, timeZone: string): WallTime & { weekday: number } {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(epochMs)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

function offsetAt(epochMs: number, timeZone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000;
  const w = wallTimeAt(whole, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second ?? 0) - whole;
}

/**
 * The instant a wall time happens in `timeZone`. A wall time that a daylight-saving jump skips
 * maps to an instant within an hour of the gap.
 *
 * Pure.
 *
 * @internal
 */
export function instantOf(wall: WallTime, timeZone: string): number {
  const local = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second ?? 0, wall.millisecond ?? 0);
  const first = offsetAt(local, timeZone);
  const guess = local - first;
  const second = offsetAt(guess, timeZone);
  return second === first ? guess : local - second;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads an ISO-8601 date or date-time. One with `Z` or an offset is an instant; one without is
 * a wall time in `timeZone`. Epoch milliseconds (digits only) are accepted too.
 *
 * Pure.
 *
 * @internal
 * @returns epoch ms, or `undefined` when the text is not such a date.
 */
export function parseDateTime(text: string, timeZone: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{10,}$/.test(trimmed)) return Number(trimmed);
  const m = DATE_TIME.exec(trimmed);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '0', zone] = m;
  const wall: WallTime = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    millisecond: Number(frac.padEnd(3, '0').slice(0, 3)),
  };
  if (!isRealWallTime(wall)) return undefined;
  if (!zone) return instantOf(wall, timeZone);
  const utc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second, wall.millisecond);
  if (zone.toUpperCase() === 'Z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return utc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * 60_000;
}

/**
 * True when the fields name a real calendar date and time of day (no 31 April, no 25:00).
 *
 * @internal
 */
export function isRealWallTime(wall: WallTime): boolean {
  const { year, month, day, hour, minute } = wall;
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return false;
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && (wall.second ?? 0) <= 59;
}
