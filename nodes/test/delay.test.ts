import { messageReceived, timerFired } from '@convoflow/engine';
import { delayNode, parseIsoDuration, TEST_NOW } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';

describe('delay node', () => {
  it('should schedule a timer at now + duration and wait for it', () => {
    const ctx = scopeFor(delayNode, { params: { duration: 'PT5M' } });
    expect(enter(delayNode, ctx)).toEqual({
      type: 'stay',
      effects: [{ type: 'scheduleTimer', timerId: 'delay', dueAt: TEST_NOW + 300_000 }],
      waitingFor: 'timer',
      data: { dueAt: TEST_NOW + 300_000 },
    });
  });

  it('should leave by done when its timer fires, and ignore anything else', () => {
    const ctx = scopeFor(delayNode, { params: { duration: 'P1D' } });
    expect(on(delayNode, ctx, timerFired('delay', TEST_NOW + 86_400_000), { timers: ['delay'] })).toEqual({ type: 'leave', output: 'done' });
    expect(on(delayNode, ctx, timerFired('other', TEST_NOW))).toEqual({ type: 'ignore' });
    const message = messageReceived({ id: 'm1', channel: 'whatsapp', from: '+6590000000', text: 'hi', sentAt: TEST_NOW }, TEST_NOW);
    expect(on(delayNode, ctx, message)).toEqual({ type: 'ignore' });
  });

  it('should leave at once for a zero duration', () => {
    expect(enter(delayNode, scopeFor(delayNode, { params: { duration: 'PT0S' } }))).toEqual({ type: 'leave', output: 'done' });
  });

  it('should accept weeks, days, hours, minutes and seconds, and refuse months', () => {
    expect(parseIsoDuration('P1W')).toBe(604_800_000);
    expect(parseIsoDuration('P1DT2H30M')).toBe(95_400_000);
    expect(parseIsoDuration('PT1.5S')).toBe(1500);
    expect(parseIsoDuration('P1M')).toBeUndefined();
    expect(parseIsoDuration('PT')).toBeUndefined();
    expect(parseIsoDuration('P')).toBeUndefined();
    expect(() => scopeFor(delayNode, { params: { duration: 'P1Y' } })).toThrow(/invalid params/);
    expect(() => scopeFor(delayNode, { params: { duration: '5 minutes' } })).toThrow(/invalid params/);
  });
});
