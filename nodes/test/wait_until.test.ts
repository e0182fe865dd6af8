import { timerFired } from '@convoflow/engine';
import { NodeParamsError, waitUntilNode } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';

const weekdays9to6 = { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' };
const dueAtOf = (reaction: ReturnType<typeof enter>): number | undefined =>
  reaction.type === 'stay' ? (reaction.effects?.[0] as { dueAt: number } | undefined)?.dueAt : undefined;
const iso = (epoch: number | undefined): string | undefined => (epoch === undefined ? undefined : new Date(epoch).toISOString());

describe('wait_until node: date', () => {
  it('should wait until a date-time with offset', () => {
    const ctx = scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-03-01T10:00:00+08:00' }, now: Date.UTC(2025, 1, 1) });
    const reaction = enter(waitUntilNode, ctx);
    expect(reaction).toMatchObject({ type: 'stay', waitingFor: 'timer', effects: [{ type: 'scheduleTimer', timerId: 'wait_until' }] });
    expect(iso(dueAtOf(reaction))).toBe('2025-03-01T02:00:00.000Z');
  });

  it('should read a date without offset in the node time zone', () => {
    const now = Date.UTC(2025, 0, 1);
    const singapore = enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-03-01 09:30', timezone: 'Asia/Singapore' }, now }));
    expect(iso(dueAtOf(singapore))).toBe('2025-03-01T01:30:00.000Z');
    const newYorkSummer = enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-07-04', timezone: 'America/New_York' }, now }));
    expect(iso(dueAtOf(newYorkSummer))).toBe('2025-07-04T04:00:00.000Z');
    const utc = enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-02-01' }, now }));
    expect(iso(dueAtOf(utc))).toBe('2025-02-01T00:00:00.000Z');
  });

  it('should leave at once when the date has passed', () => {
    const ctx = scopeFor(waitUntilNode, { params: { mode: 'date', date: '2024-12-31T23:59:59Z' }, now: Date.UTC(2025, 0, 1) });
    expect(enter(waitUntilNode, ctx)).toEqual({ type: 'leave', output: 'done', data: { dueAt: Date.UTC(2025, 0, 1) } });
  });

  it('should fail clearly on a rendered date that is not a date, or an unknown zone', () => {
    expect(() => enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: 'next Tuesday' } }))).toThrow(NodeParamsError);
    expect(() => enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-02-30' } }))).toThrow(/not a date/);
    expect(() => enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'date', date: '2025-03-01', timezone: 'Mars/Olympus' } }))).toThrow(
      /not a known time zone/,
    );
  });

  it('should leave by done when its timer fires', () => {
    const ctx = scopeFor(waitUntilNode, { params: { mode: 'date', date: '2030-01-01' } });
    expect(on(waitUntilNode, ctx, timerFired('wait_until', Date.UTC(2030, 0, 1)))).toEqual({ type: 'leave', output: 'done' });
    expect(on(waitUntilNode, ctx, timerFired('reply_timeout', Date.UTC(2030, 0, 1)))).toEqual({ type: 'ignore' });
  });
});

describe('wait_until node: business hours', () => {
  const at = (isoText: string, hours = weekdays9to6, timezone = 'Asia/Singapore') =>
    enter(waitUntilNode, scopeFor(waitUntilNode, { params: { mode: 'business_hours', businessHours: hours, timezone }, now: Date.parse(isoText) }));

  it('should leave at once while open', () => {
    // Monday 10:00 in Singapore.
    expect(at('2025-01-06T02:00:00Z')).toEqual({ type: 'leave', output: 'done', data: { dueAt: Date.parse('2025-01-06T02:00:00Z') } });
  });

  it('should wait for the opening later the same day', () => {
    // Monday 07:00 in Singapore -> 09:00.
    expect(iso(dueAtOf(at('2025-01-05T23:00:00Z')))).toBe('2025-01-06T01:00:00.000Z');
  });

  it('should wait over the weekend, and treat the end time as closed', () => {
    // Friday 18:00 in Singapore -> Monday 09:00.
    expect(iso(dueAtOf(at('2025-01-10T10:00:00Z')))).toBe('2025-01-13T01:00:00.000Z');
    // Saturday noon -> Monday 09:00.
    expect(iso(dueAtOf(at('2025-01-11T04:00:00Z')))).toBe('2025-01-13T01:00:00.000Z');
  });

  it('should follow daylight saving time in the node time zone', () => {
    // Saturday 8 March 2025 in New York; clocks go forward on Sunday 9 March, so Monday 09:00 is EDT (UTC-4).
    expect(iso(dueAtOf(at('2025-03-08T15:00:00Z', weekdays9to6, 'America/New_York')))).toBe('2025-03-10T13:00:00.000Z');
  });

  it('should handle overnight hours and all-day hours', () => {
    const night = { days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '06:00' };
    // 02:00 UTC is inside yesterday's 22:00-06:00 window.
    expect(at('2025-01-06T02:00:00Z', night, 'UTC')).toMatchObject({ type: 'leave', output: 'done' });
    expect(iso(dueAtOf(at('2025-01-06T12:00:00Z', night, 'UTC')))).toBe('2025-01-06T22:00:00.000Z');
    const sundaysAllDay = { days: [7], start: '00:00', end: '00:00' };
    expect(at('2025-01-05T23:59:00Z', sundaysAllDay, 'UTC')).toMatchObject({ type: 'leave' });
    expect(iso(dueAtOf(at('2025-01-06T00:00:00Z', sundaysAllDay, 'UTC')))).toBe('2025-01-12T00:00:00.000Z');
  });

  it('should refuse hours that are not HH:MM and days outside 1..7', () => {
    const params = (businessHours: object) => ({ mode: 'business_hours', businessHours: businessHours as never });
    expect(() => scopeFor(waitUntilNode, { params: params({ days: [1], start: '9:00', end: '18:00' }) })).toThrow(/invalid params/);
    expect(() => scopeFor(waitUntilNode, { params: params({ days: [0], start: '09:00', end: '18:00' }) })).toThrow(/invalid params/);
    expect(() => scopeFor(waitUntilNode, { params: { mode: 'business_hours' } })).toThrow(/businessHours/);
    expect(() => scopeFor(waitUntilNode, { params: { mode: 'date' } })).toThrow(/date/);
  });
});
