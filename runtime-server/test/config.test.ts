import { ConfigError, readConfig } from '../src/config.js';

const DAY = 86_400_000;

describe('readConfig', () => {
  it('should default the shutdown grace, the SQLite busy timeout, the effect slots and every retention window', () => {
    const config = readConfig({});
    expect(config.shutdownGraceMs).toBe(10_000);
    expect(config.effectSlots).toEqual({ timers: 16, sends: 64, node_calls: 64 });
    expect(config.effectSlotsPerWorkspace).toBe(16);
    expect(config.sqliteBusyTimeoutMs).toBe(500);
    expect(config.compiledFlowNodes).toBe(30_000);
    expect(config.maxRunSteps).toBe(50_000);
    expect(config.retention).toEqual({
      stepLogMs: 30 * DAY,
      journalMs: 7 * DAY,
      outboxMs: 7 * DAY,
      endedRunsMs: 90 * DAY,
      messagesMs: 365 * DAY,
      everyMs: 15 * 60_000,
    });
  });

  it('should read the settings it is given', () => {
    const config = readConfig({
      SHUTDOWN_GRACE_MS: '0',
      RETENTION_MESSAGES_DAYS: '30',
      RETENTION_RUNS_DAYS: '1',
      SQLITE_BUSY_TIMEOUT_MS: '2000',
      EFFECT_SLOTS_NODE_CALLS: '64',
      EFFECT_SLOTS_SENDS: '4',
      EFFECT_SLOTS_PER_WORKSPACE: '2',
      COMPILED_FLOW_NODES: '100000',
      RUN_MAX_STEPS: '200000',
    });
    expect(config.maxRunSteps).toBe(200_000);
    expect(config.compiledFlowNodes).toBe(100_000);
    expect(config.shutdownGraceMs).toBe(0);
    expect(config.effectSlots).toEqual({ timers: 16, sends: 4, node_calls: 64 });
    expect(config.effectSlotsPerWorkspace).toBe(2);
    expect(config.sqliteBusyTimeoutMs).toBe(2_000);
    expect(config.retention.messagesMs).toBe(30 * DAY);
    expect(config.retention.endedRunsMs).toBe(DAY);
  });

  it.each([
    ['SHUTDOWN_GRACE_MS', '-1'],
    ['SHUTDOWN_GRACE_MS', '2.5'],
    ['RETENTION_MESSAGES_DAYS', 'forever'],
    ['RETENTION_EVERY_MINUTES', '0'],
    ['LEASE_MS', '10'],
    ['SQLITE_BUSY_TIMEOUT_MS', '-5'],
    ['EFFECT_SLOTS_TIMERS', '0'],
    ['EFFECT_SLOTS_NODE_CALLS', 'many'],
    ['EFFECT_SLOTS_PER_WORKSPACE', '0'],
    ['COMPILED_FLOW_NODES', '0'],
    ['RUN_MAX_STEPS', '-1'],
  ])('should refuse %s=%s naming the variable', (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => readConfig({ [name]: value })).toThrow(new RegExp(`^${name}: expected an integer >= \\d+, got "${value}"$`));
  });
});
