/** The flows the HTTP benches publish, and publishing them over the API. */
import type { FlowDefinition, FlowEdge, FlowNode, JsonObject } from '@convoflow/engine';
import type { HttpClient } from './http-client.js';

const node = (id: string, type: string, x: number, params: JsonObject): FlowNode => ({
  id,
  type,
  typeVersion: 1,
  label: id,
  position: { x, y: 0 },
  params,
});
const edge = (source: string, sourceOutput: string, target: string): FlowEdge => ({
  id: `${source}-${sourceOutput}`,
  source,
  sourceOutput,
  target,
});

/**
 * The HTTP bench's flow, triggered by the exact keyword "bench" (or `keyword`, whose flow has an
 * id of its own). Ten nodes: three assignments, a condition, a switch, three more assignments, a
 * send ("done {{vars.n}}"), an end.
 */
export function benchFlow(keyword = 'bench'): FlowDefinition {
  const nodes: FlowNode[] = [
    node('set_a', 'set_variable', 0, { assignments: [{ variable: 'a', value: 1 }] }),
    node('set_b', 'set_variable', 200, { assignments: [{ variable: 'b', value: 'b-{{vars.a}}' }] }),
    node('set_c', 'set_variable', 400, { assignments: [{ variable: 'c', value: 12 }] }),
    node('check', 'condition', 600, { rules: { all: [{ field: 'vars.a', operator: 'equals', value: 1 }] } }),
    node('route', 'switch', 800, { cases: [{ id: 'big', rule: { field: 'vars.c', operator: 'gte', value: 10 } }] }),
    node('set_d', 'set_variable', 1_000, { assignments: [{ variable: 'd', value: 'd-{{vars.b}}' }] }),
    node('set_e', 'set_variable', 1_200, { assignments: [{ variable: 'e', value: 2 }] }),
    node('set_n', 'set_variable', 1_400, { assignments: [{ variable: 'n', value: '{{vars.c}}', as: 'number' }] }),
    node('reply', 'send_text', 1_600, { text: 'done {{vars.n}}' }),
    node('finish', 'end', 1_800, {}),
  ];
  const edges: FlowEdge[] = [
    edge('set_a', 'next', 'set_b'),
    edge('set_b', 'next', 'set_c'),
    edge('set_c', 'next', 'check'),
    edge('check', 'true', 'route'),
    edge('check', 'false', 'route'),
    edge('route', 'big', 'set_d'),
    edge('route', 'default', 'set_d'),
    edge('set_d', 'next', 'set_e'),
    edge('set_e', 'next', 'set_n'),
    edge('set_n', 'next', 'reply'),
    edge('reply', 'sent', 'finish'),
    edge('reply', 'failed', 'finish'),
    edge('reply', 'window_closed', 'finish'),
  ];
  return {
    id: keyword === 'bench' ? 'bench-http' : `bench-http-${keyword}`,
    name: `HTTP benchmark: ten nodes ending in a send (${keyword})`,
    triggers: [{ id: 'kw', type: 'keyword', params: { keywords: [keyword], match: 'exact', caseSensitive: false } }],
    nodes,
    edges,
    variables: [
      { name: 'a', type: 'number', default: 0 },
      { name: 'b', type: 'string', default: '' },
      { name: 'c', type: 'number', default: 0 },
      { name: 'd', type: 'string', default: '' },
      { name: 'e', type: 'number', default: 0 },
      { name: 'n', type: 'number', default: 0 },
    ],
    settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
  };
}

/**
 * A flow whose first node asks a question (text answer, `timeout` long) and waits for the reply:
 * each contact that says `keyword` leaves one run waiting. Answering thanks and ends.
 */
export function waitingFlow(keyword = 'wait', timeout = 'P7D'): FlowDefinition {
  return {
    id: 'bench-waiting',
    name: 'RSS benchmark: a question waiting for its answer',
    triggers: [{ id: 'kw', type: 'keyword', params: { keywords: [keyword], match: 'exact', caseSensitive: false } }],
    nodes: [
      node('ask', 'ask_question', 0, { question: 'What is your name?', answerType: 'text', saveTo: { variable: 'name' }, timeout }),
      node('thanks', 'send_text', 200, { text: 'Thanks {{vars.name}}' }),
      node('finish', 'end', 400, {}),
    ],
    edges: [
      edge('ask', 'answered', 'thanks'),
      edge('ask', 'invalid', 'finish'),
      edge('ask', 'timeout', 'finish'),
      edge('ask', 'failed', 'finish'),
      edge('thanks', 'sent', 'finish'),
      edge('thanks', 'failed', 'finish'),
      edge('thanks', 'window_closed', 'finish'),
    ],
    variables: [{ name: 'name', type: 'string', default: '' }],
    settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: true, onWaitingRunExpired: 'resume' },
  };
}

/** Creates and publishes `flow` with the admin key. */
export async function publishFlow(client: HttpClient, flow: FlowDefinition): Promise<void> {
  const created = await client.expect<{ flow: { id: string } }>(201, 'POST', '/api/flows', flow);
  await client.expect(201, 'POST', `/api/flows/${encodeURIComponent(created.flow.id)}/publish`);
}

