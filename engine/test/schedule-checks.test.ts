import { validate } from '../src/index.js';
import type { FlowDefinition, JsonObject } from '../src/index.js';
import { cronProblem, isTimezone } from '../src/schedule/schedule-checks.js';
import { validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';

describe('cronProblem', () => {
  it('should take what the scheduler takes: 5 fields, 6 with seconds, names and ranges', () => {
    for (const ok of ['0 9 * * 1-5', '*/15 * * * *', '0 0 29 2 *', '30 0 9 * * MON-FRI', '0 18 L * *']) expect([ok, cronProblem(ok)]).toEqual([ok, undefined]);
  });

  it('should say what is wrong with one it refuses', () => {
    expect(cronProblem('every day')).toBe('has 2 fields, not 5 or 6');
    expect(cronProblem('  ')).toBe('has 0 fields, not 5 or 6');
    expect(cronProblem('1 2 3 4 5 6 7')).toBe('has 7 fields, not 5 or 6');
    expect(cronProblem('61 9 * * *')).toBe('has 61 where the field takes 0-59');
    expect(cronProblem('0 9 31 2 *')).toBe('names a day the month never has');
  });
});

describe('isTimezone', () => {
  it('should know IANA zones and UTC, and nothing else', () => {
    expect(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Asia/Hong_Kong'].map(isTimezone)).toEqual([true, true, true, true]);
    expect(['Mars/Olympus', '', 'GMT+25', 'Europe/Pariss'].map(isTimezone)).toEqual([false, false, false, false]);
  });
});

describe('validate: schedule triggers', () => {
  const scheduled = (params: JsonObject): FlowDefinition => ({ ...validFlow(), triggers: [{ id: 's', type: 'schedule', params }] });
  const errors = (flow: FlowDefinition) =>
    validate(flow, validateCatalogue)
      .filter((d) => d.severity === 'error')
      .map((d) => [d.path, d.message]);

  it('should accept a schedule the scheduler runs', () => {
    expect(errors(scheduled({ cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }))).toEqual([]);
  });

  it('should explain a cron of the wrong shape once, with the parser\'s reason', () => {
    expect(errors(scheduled({ cron: 'every day', timezone: 'UTC' }))).toEqual([
      ['/triggers/0/params/cron', expect.stringMatching(/it has 2 fields, not 5 or 6;/)],
    ]);
  });

  it('should refuse, at the field and with the parser\'s reason, one it would refuse', () => {
    expect(errors(scheduled({ cron: '61 9 * * *', timezone: 'Mars/Olympus' }))).toEqual([
      ['/triggers/0/params/cron', 'Trigger #1 (schedule): the schedule (cron) is not a cron expression the scheduler takes: it has 61 where the field takes 0-59; write 5 or 6 fields, such as "0 9 * * 1-5"'],
      ['/triggers/0/params/timezone', 'Trigger #1 (schedule): the time zone is not a time zone this server knows: use an IANA name such as Europe/Paris or America/New_York, or UTC'],
    ]);
  });
});
