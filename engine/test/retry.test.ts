import { compile, nodeFailed, nodeCompleted, retry, RetryError, start, step } from '../src/index.js';
import { catalogue } from './fixtures/nodes.js';
import { edge, flowOf, node } from './fixtures/flows.js';

const flow = flowOf(
  [
    node('remember', 'set', { variable: 'order', value: 'A-17' }),
    node('call', 'http', { url: 'https://shop.example.com/orders/{{vars.order}}' }),
    node('tell', 'send', { text: 'Order {{vars.order}} is {{nodes.call.status}}' }),
  ],
  [edge('remember', 'next', 'call'), edge('call', 'success', 'tell')],
  { variables: [{ name: 'order', type: 'string' }] },
);

describe('retry', () => {
  const compiled = compile(flow, catalogue);

  function failedRun() {
    const started = start(compiled, { runId: 'run-1', at: 1_000, trigger: {}, contact: {} });
    const call = started.effects.find((e) => e.type === 'executeNode');
    if (!call) throw new Error('expected the HTTP call');
    const failed = step(compiled, started.snapshot, nodeFailed({ at: 2_000, nodeId: 'call', seq: call.seq, error: { code: 'HTTP', message: 'connection refused' } }));
    return { started, call, failed };
  }

  it('should enter the failed node again with the state the run had and a fresh seq', () => {
    const { call, failed } = failedRun();
    expect(failed.status).toBe('failed');
    expect(failed.error?.nodeId).toBe('call');

    const retried = retry(flow, catalogue, failed.snapshot, 3_000);
    expect(retried.status).toBe('running');
    expect(retried.vars).toEqual({ order: 'A-17' });
    expect(retried.effects).toEqual([
      {
        type: 'executeNode',
        seq: call.seq + 1,
        nodeId: 'call',
        nodeType: 'test.http',
        typeVersion: 1,
        params: { url: 'https://shop.example.com/orders/A-17' },
      },
    ]);

    // The retried run continues on the flow's ordinary machine, also after a JSON round trip.
    const restored = JSON.parse(JSON.stringify(retried.snapshot));
    const done = step(compiled, restored, nodeCompleted({ at: 4_000, nodeId: 'call', seq: call.seq + 1, output: 'success', data: { status: 'shipped' } }));
    const send = done.effects.find((e) => e.type === 'sendMessage');
    expect(send).toMatchObject({ message: { kind: 'text', text: 'Order A-17 is shipped' } });
  });

  it('should ignore the outcome of the attempt that failed', () => {
    const { call, failed } = failedRun();
    const retried = retry(flow, catalogue, failed.snapshot, 3_000);
    const stale = step(compiled, retried.snapshot, nodeCompleted({ at: 4_000, nodeId: 'call', seq: call.seq, output: 'success' }));
    expect(stale.ignored).toBe(true);
  });

  it('should refuse a run that did not fail', () => {
    const { started } = failedRun();
    expect(() => retry(flow, catalogue, started.snapshot, 3_000)).toThrow(RetryError);
  });
});
