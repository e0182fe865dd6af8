const DURATION = /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const MS = { week: 604_800_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1_000 };

/**
 * Parses an ISO-8601 duration (`PT24H`, `P1D`, `PT30M`, `P1W`, `PT1.5S`) into milliseconds.
 * Years and months are refused: their length depends on the calendar, and a duration here must
 * mean the same number of milliseconds on every date.
 *
 * Pure.
 *
 * @internal
 * @returns the duration in ms, or `undefined` when the text is not a supported duration.
 * @example
 * parseIsoDuration('PT1H30M') // 5_400_000
 */
export function parseIsoDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim().toUpperCase());
  if (!match || text.trim().toUpperCase() === 'P' || /T$/.test(text.trim())) return undefined;
  const [, weeks, days, hours, minutes, seconds] = match;
  if (![weeks, days, hours, minutes, seconds].some((part) => part !== undefined)) return undefined;
  const num = (part: string | undefined): number => (part === undefined ? 0 : Number(part.replace(',', '.')));
  return Math.round(
    num(weeks) * MS.week + num(days) * MS.day + num(hours) * MS.hour + num(minutes) * MS.minute + num(seconds) * MS.second,
  );
}
