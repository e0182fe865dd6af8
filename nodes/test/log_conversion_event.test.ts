import { nodeCompleted, nodeFailed, type JsonObject } from '@convoflow/engine';
import { logConversionEventNode, TEST_NOW } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';
import { executionContext } from './support/execution-context.js';

const execute = (params: JsonObject) => {
  scopeFor(logConversionEventNode, { params });
  if (!logConversionEventNode.execute) throw new Error('log_conversion_event has no execute');
  return logConversionEventNode.execute(executionContext(), params);
};

describe('log_conversion_event node', () => {
  it('should ask the runtime to execute it with the rendered event', () => {
    const params = { name: 'purchase', value: '149.90', currency: 'SGD' };
    const ctx = scopeFor(logConversionEventNode, { nodeId: 'conv', params });
    expect(enter(logConversionEventNode, ctx)).toEqual({ type: 'stay', effects: [{ type: 'executeNode', params }], waitingFor: 'effect' });
  });

  it('should return the event to record as data, with the value as a number', async () => {
    expect(await execute({ name: ' purchase ', value: '149.90', currency: 'SGD' })).toEqual({
      output: 'logged',
      data: { name: 'purchase', value: 149.9, currency: 'SGD' },
    });
    expect(await execute({ name: 'signup' })).toEqual({ output: 'logged', data: { name: 'signup', value: null, currency: null } });
    expect(await execute({ name: 'upsell', value: 20, currency: 'USD' })).toMatchObject({ data: { value: 20 } });
    expect(await execute({ name: 'signup', value: '  ' })).toMatchObject({ output: 'logged', data: { value: null } });
  });

  it('should leave by failed for a value that is not a number', async () => {
    expect(await execute({ name: 'purchase', value: 'about 20 dollars' })).toEqual({
      output: 'failed',
      data: { error: { code: 'invalid_value', message: '"about 20 dollars" is not a number' } },
    });
  });

  it('should leave by the outcome the runtime reports, so the data is on nodes.<id>', () => {
    const ctx = scopeFor(logConversionEventNode, { nodeId: 'conv', params: { name: 'purchase' } });
    const logged = nodeCompleted({ at: TEST_NOW, nodeId: 'conv', seq: 5, output: 'logged', data: { name: 'purchase', value: null, currency: null } });
    expect(on(logConversionEventNode, ctx, logged)).toEqual({ type: 'leave', output: 'logged', data: { name: 'purchase', value: null, currency: null } });
    const failed = nodeFailed({ at: TEST_NOW, nodeId: 'conv', seq: 5, error: { code: 'X', message: 'boom' } });
    expect(on(logConversionEventNode, ctx, failed)).toEqual({ type: 'leave', output: 'failed', data: { error: { code: 'X', message: 'boom' } } });
  });

  it('should refuse a currency that is not an ISO 4217 code', () => {
    expect(() => scopeFor(logConversionEventNode, { params: { name: 'purchase', currency: 'dollars' } })).toThrow(/invalid params/);
  });
});
