import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  compile,
  messageReceived,
  nodeCompleted,
  start,
  step,
  timerFired,
  validate,
  type Effect,
  type FlowDefinition,
  type FlowEdge,
  type FlowNode,
  type JsonObject,
  type StepResult,
} from '@convoflow/engine';
import { builtinCatalogue, httpRequestNode } from '../src/index.js';
import { executionContext } from './support/execution-context.js';

// The built-in nodes as the engine runs them: validated, compiled and stepped like a real run.

const AT = Date.UTC(2025, 0, 6, 9, 0, 0);
const node = (id: string, type: string, params: JsonObject): FlowNode => ({ id, type, typeVersion: 1, position: { x: 0, y: 0 }, params });
const edge = (source: string, sourceOutput: string, target: string): FlowEdge => ({ id: `${source}-${sourceOutput}`, source, sourceOutput, target });
const flowOf = (nodes: FlowNode[], edges: FlowEdge[], variables: FlowDefinition['variables'] = []): FlowDefinition => ({
  id: 'flow-1',
  name: 'Test flow',
  triggers: [{ id: 't1', type: 'message.received', params: {} }],
  nodes,
  edges,
  variables,
  settings: { channels: ['whatsapp'], defaultReplyTimeout: 'PT24H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
});
const reply = (text: string, at: number) => messageReceived({ id: `m-${text}`, channel: 'whatsapp', from: '+6590000000', text, sentAt: at }, at);
const only = <T extends Effect['type']>(result: StepResult, type: T) => result.effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);

describe('built-in nodes run by the engine', () => {
  it('should ask, retry, save the answer, branch on it and send a rendered message', () => {
    const flow = flowOf(
      [
        node('ask', 'ask_question', { question: 'Hi {{contact.firstName}}, your email?', answerType: 'email', saveTo: { variable: 'email' }, retries: 1, timeout: 'PT1H' }),
        node('is_work', 'condition', { rules: { field: 'vars.email', operator: 'ends_with', value: '@acme.com' } }),
        node('thanks', 'send_text', { text: 'Thanks, we will write to {{vars.email}}.' }),
        node('done', 'end', {}),
      ],
      [edge('ask', 'answered', 'is_work'), edge('ask', 'invalid', 'done'), edge('ask', 'timeout', 'done'), edge('ask', 'failed', 'done'), edge('is_work', 'true', 'thanks'), edge('is_work', 'false', 'done'), edge('thanks', 'sent', 'done'), edge('thanks', 'window_closed', 'done'), edge('thanks', 'failed', 'done')],
      [{ name: 'email', type: 'string', default: '' }],
    );
    expect(validate(flow, builtinCatalogue).filter((d) => d.severity === 'error')).toEqual([]);
    const compiled = compile(flow, builtinCatalogue);

    let result = start(compiled, { runId: 'run-1', at: AT, trigger: {}, contact: { firstName: 'Mei' } });
    const [question] = only(result, 'sendMessage');
    expect(question?.message).toEqual({ kind: 'text', text: 'Hi Mei, your email?' });
    expect(only(result, 'scheduleTimer')[0]?.dueAt).toBe(AT + 3_600_000);

    result = step(compiled, result.snapshot, nodeCompleted({ at: AT + 1, nodeId: 'ask', seq: question!.seq, output: 'sent' }));
    expect(result.status).toBe('waiting');

    result = step(compiled, result.snapshot, reply('mei at acme', AT + 2));
    expect(only(result, 'sendMessage')[0]?.message).toEqual({ kind: 'text', text: "Sorry, I didn't understand that. Please try again." });

    result = step(compiled, result.snapshot, reply('Mei@ACME.com', AT + 3));
    expect(result.vars.email).toBe('Mei@acme.com');
    const [thanks] = only(result, 'sendMessage');
    expect(thanks?.message).toEqual({ kind: 'text', text: 'Thanks, we will write to Mei@acme.com.' });

    result = step(compiled, result.snapshot, nodeCompleted({ at: AT + 4, nodeId: 'thanks', seq: thanks!.seq, output: 'sent' }));
    expect(result.status).toBe('done');
  });

  it('should route button replies and time out through the scheduled timer', () => {
    const flow = flowOf(
      [
        node('menu', 'send_buttons', { text: 'Pick one', buttons: [{ id: 'track', title: 'Track order' }, { id: 'agent', title: 'Agent' }] }),
        node('pause', 'delay', { duration: 'PT10M' }),
        node('done', 'end', {}),
      ],
      [edge('menu', 'track', 'pause'), edge('menu', 'agent', 'done'), edge('menu', 'no_match', 'done'), edge('menu', 'timeout', 'done'), edge('menu', 'failed', 'done'), edge('pause', 'done', 'done')],
    );
    expect(validate(flow, builtinCatalogue).filter((d) => d.severity === 'error')).toEqual([]);
    const compiled = compile(flow, builtinCatalogue);
    const first = start(compiled, { runId: 'run-2', at: AT, trigger: {}, contact: {} });
    expect(only(first, 'scheduleTimer')[0]?.dueAt).toBe(AT + 24 * 3_600_000);

    const picked = step(compiled, first.snapshot, reply('1', AT + 5));
    expect(picked.path.map((p) => [p.nodeId, p.output])).toEqual([['menu', 'track'], ['pause', undefined]]);
    const delayTimer = only(picked, 'scheduleTimer')[0];
    expect(delayTimer?.dueAt).toBe(AT + 5 + 600_000);
    const resumed = step(compiled, picked.snapshot, timerFired(delayTimer!.timerId, delayTimer!.dueAt));
    expect(resumed.status).toBe('done');

    const replyTimer = only(first, 'scheduleTimer')[0];
    const timedOut = step(compiled, first.snapshot, timerFired(replyTimer!.timerId, replyTimer!.dueAt));
    expect(timedOut.path[0]).toMatchObject({ nodeId: 'menu', output: 'timeout' });
  });

  describe('with an HTTP request executed against a local server', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ order: { id: req.url?.split('/').pop(), status: 'shipped' } }));
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it('should execute the effect the engine emits and branch on the mapped variable', async () => {
      const flow = flowOf(
        [
          node('lookup', 'http_request', { method: 'GET', url: `${base}/orders/{{vars.orderId}}`, responseMapping: [{ path: 'order.status', variable: 'status' }] }),
          node('route', 'switch', { cases: [{ id: 'shipped', rule: { field: 'vars.status', operator: 'equals', value: 'SHIPPED' } }] }),
          node('say', 'send_text', { text: 'Order {{nodes.lookup.body.order.id}} is {{vars.status}}' }),
          node('done', 'end', {}),
        ],
        [edge('lookup', 'success', 'route'), edge('lookup', 'error', 'done'), edge('route', 'shipped', 'say'), edge('route', 'default', 'done'), edge('say', 'sent', 'done'), edge('say', 'window_closed', 'done'), edge('say', 'failed', 'done')],
        [{ name: 'orderId', type: 'string' }, { name: 'status', type: 'string' }],
      );
      expect(validate(flow, builtinCatalogue).filter((d) => d.severity === 'error')).toEqual([]);
      const compiled = compile(flow, builtinCatalogue);
      const first = start(compiled, { runId: 'run-3', at: AT, trigger: {}, contact: {}, vars: { orderId: 'A1' } });
      const [effect] = only(first, 'executeNode');
      expect(effect).toMatchObject({ nodeId: 'lookup', nodeType: 'http_request', params: { url: `${base}/orders/A1` } });

      const outcome = await httpRequestNode.execute!(executionContext({ allowPrivateNetwork: true }), effect!.params);
      const next = step(compiled, first.snapshot, nodeCompleted({ at: AT + 10, nodeId: 'lookup', seq: effect!.seq, ...outcome }));
      expect(next.vars.status).toBe('shipped');
      expect(only(next, 'sendMessage')[0]?.message).toEqual({ kind: 'text', text: 'Order A1 is shipped' });
    });
  });
});
