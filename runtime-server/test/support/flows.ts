import type { FlowDefinition } from '@convoflow/engine';

/**
 * A keyword flow with the three kinds of side effect the durability tests care about: a send, an
 * HTTP call (to a local idempotent sink) and a delay, then a last send. Texts carry the inbound
 * message id so a test can count what each message caused.
 */
export function sendCallDelayFlow(sinkUrl: string): FlowDefinition {
  return {
    id: 'crash-test',
    name: 'Crash test',
    triggers: [{ id: 'kw', type: 'keyword', params: { keywords: ['crash'], match: 'contains' } }],
    nodes: [
      { id: 'ack', type: 'send_text', typeVersion: 1, position: { x: 0, y: 0 }, params: { text: 'ack {{trigger.message.id}}' } },
      {
        id: 'call',
        type: 'http_request',
        typeVersion: 1,
        position: { x: 200, y: 0 },
        params: { method: 'POST', url: `${sinkUrl}/hook`, body: '{"message":"{{trigger.message.id}}"}', headers: [{ name: 'content-type', value: 'application/json' }] },
      },
      { id: 'pause', type: 'delay', typeVersion: 1, position: { x: 400, y: 0 }, params: { duration: 'PT1S' } },
      { id: 'done', type: 'send_text', typeVersion: 1, position: { x: 600, y: 0 }, params: { text: 'done {{trigger.message.id}}' } },
      { id: 'oops', type: 'send_text', typeVersion: 1, position: { x: 400, y: 200 }, params: { text: 'http failed {{trigger.message.id}}' } },
    ],
    edges: [
      { id: 'e1', source: 'ack', sourceOutput: 'sent', target: 'call' },
      { id: 'e2', source: 'call', sourceOutput: 'success', target: 'pause' },
      { id: 'e3', source: 'call', sourceOutput: 'error', target: 'oops' },
      { id: 'e4', source: 'pause', sourceOutput: 'done', target: 'done' },
    ],
    variables: [],
    settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: false, onWaitingRunExpired: 'resume' },
  };
}

/** A flow that calls `url` when a contact says `keyword`, and says "called" once the call succeeded. */
export function callFlow(id: string, keyword: string, url: string): FlowDefinition {
  return {
    id,
    name: id,
    triggers: [{ id: 'kw', type: 'keyword', params: { keywords: [keyword], match: 'exact' } }],
    nodes: [
      { id: 'call', type: 'http_request', typeVersion: 1, position: { x: 0, y: 0 }, params: { method: 'POST', url: `${url}/hook`, body: '{}', timeoutMs: 60_000 } },
      { id: 'ok', type: 'send_text', typeVersion: 1, position: { x: 200, y: 0 }, params: { text: 'called' } },
      { id: 'bad', type: 'send_text', typeVersion: 1, position: { x: 200, y: 200 }, params: { text: 'call failed' } },
    ],
    edges: [
      { id: 'e1', source: 'call', sourceOutput: 'success', target: 'ok' },
      { id: 'e2', source: 'call', sourceOutput: 'error', target: 'bad' },
    ],
    variables: [],
    settings: { channels: ['simulator'], defaultReplyTimeout: 'PT1H', honourInterruptKeywords: false, onWaitingRunExpired: 'resume' },
  };
}
