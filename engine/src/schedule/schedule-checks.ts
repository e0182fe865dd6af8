import { CronExpressionParser } from 'cron-parser';

/**
 * Why `expression` cannot drive a schedule trigger, or undefined when it can: 5 or 6 fields
 * (seconds first when 6), each in range, and a date that exists (`0 9 31 2 *`, the 31st of
 * February, never fires, and the scheduler refuses it). Parsed as the scheduler parses it
 * (cron-parser). Pure.
 *
 * @example
 * cronProblem('0 9 * * 1-5'); // undefined
 * cronProblem('61 9 * * *');  // 'has 61 where the field takes 0-59'
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  const fields = trimmed === '' ? 0 : trimmed.split(/\s+/).length;
  if (fields < 5 || fields > 6) return `has ${fields} fields, not 5 or 6`;
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' }).next();
    return undefined;
  } catch (err) {
    return String((err as Error).message ?? err)
      .replace(/^Constraint error, got value (\S+) expected range (\S+)$/, 'has $1 where the field takes $2')
      .replace(/^Invalid explicit day of month definition$/, 'names a day the month never has');
  }
}

/** Whether `timezone` is an IANA time zone (or UTC) this runtime knows. Pure. */
export function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
