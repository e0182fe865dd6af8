import { instantOf, wallTimeAt } from '../../internal/zoned-time.js';

/** Opening hours: ISO weekdays (1 Monday ... 7 Sunday) and a daily `HH:MM` window. */
export interface BusinessHours {
  days: number[];
  start: string;
  end: string;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/**
 * The instant business next opens at or after `now`, or `now` itself when it is open. A window
 * whose end is not after its start runs overnight into the next day (`22:00`-`06:00`), and one
 * whose start equals its end is open the whole day.
 *
 * Pure: Intl with a fixed zone, no clock read.
 *
 * @returns epoch ms, or `undefined` when no day is open.
 */
export function nextOpening(now: number, hours: BusinessHours, timeZone: string): number | undefined {
  const days = new Set(hours.days);
  if (days.size === 0) return undefined;
  const start = minutesOf(hours.start);
  let end = minutesOf(hours.end);
  if (end <= start) end += 24 * 60;
  const today = wallTimeAt(now, timeZone);
  let earliest: number | undefined;
  // Yesterday's overnight window may still be open; eight days ahead covers a whole week.
  for (let offset = -1; offset <= 8; offset++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
    if (!days.has(weekday)) continue;
    const at = (minutes: number): number => {
      const d = new Date(date.getTime() + minutes * 60_000);
      const wall = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes() };
      return instantOf(wall, timeZone);
    };
    const opens = at(start);
    const closes = at(end);
    if (now >= opens && now < closes) return now;
    if (opens > now && (earliest === undefined || opens < earliest)) earliest = opens;
  }
  return earliest;
}
