/**
 * JSON Schema pattern of the ISO-8601 durations nodes accept: weeks, days, hours, minutes and
 * seconds (`PT5M`, `P1DT12H`, `P2W`), never years or months, whose length depends on the date.
 */
export const ISO_DURATION_PATTERN = '^P(?=\\d|T\\d)(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$';

const DURATION = new RegExp(ISO_DURATION_PATTERN);
const PARTS = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Milliseconds of an ISO-8601 duration matching `ISO_DURATION_PATTERN`; a day is 24 hours.
 *
 * Pure.
 *
 * @example
 * parseIsoDuration('PT1H30M') // 5_400_000
 * @returns the duration, or `undefined` when the text is not such a duration.
 */
export function parseIsoDuration(text: string): number | undefined {
  const trimmed = text.trim().toUpperCase();
  if (!DURATION.test(trimmed)) return undefined;
  const match = PARTS.exec(trimmed);
  if (!match) return undefined;
  const [, w, d, h, m, s] = match.map((part) => Number(part ?? 0));
  return Math.round(((((w ?? 0) * 7 + (d ?? 0)) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60_000 + (s ?? 0) * 1000);
}
