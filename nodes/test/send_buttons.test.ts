import { messageReceived, nodeCompleted, timerFired, type InboundMessage } from '@convoflow/engine';
import { nodeOutputs, sendButtonsNode, TEST_NOW } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';

const params = {
  text: 'Hi Mei, what can we help with?',
  buttons: [
    { id: 'track', title: 'Track order' },
    { id: 'returns', title: 'Returns' },
    { id: 'agent', title: 'Talk to us' },
  ],
  timeout: 'PT30M',
};
const ctx = scopeFor(sendButtonsNode, { nodeId: 'menu', params });
const reply = (fields: Partial<InboundMessage>) =>
  messageReceived({ id: 'wamid.2', channel: 'whatsapp', from: '+6590000000', sentAt: TEST_NOW + 1000, ...fields }, TEST_NOW + 1000);

describe('send_buttons node', () => {
  it('should have one output per button, then no_match, timeout and failed', () => {
    expect(nodeOutputs(sendButtonsNode.manifest, params)).toEqual(['track', 'returns', 'agent', 'no_match', 'timeout', 'failed']);
    expect(sendButtonsNode.manifest.waitsForReply).toBe(true);
  });

  it('should send the buttons, schedule the timeout and wait for the reply', () => {
    expect(enter(sendButtonsNode, ctx)).toEqual({
      type: 'stay',
      effects: [
        { type: 'sendMessage', message: { kind: 'buttons', text: params.text, buttons: params.buttons } },
        { type: 'scheduleTimer', timerId: 'reply_timeout', dueAt: TEST_NOW + 1_800_000 },
      ],
      waitingFor: 'reply',
    });
  });

  it('should default the timeout to the flow reply timeout', () => {
    const { timeout: _timeout, ...noTimeout } = params;
    const reaction = enter(sendButtonsNode, scopeFor(sendButtonsNode, { params: noTimeout, replyTimeoutMs: 3_600_000 }));
    expect(reaction).toMatchObject({ effects: [{}, { type: 'scheduleTimer', dueAt: TEST_NOW + 3_600_000 }] });
  });

  it('should keep waiting once the message is sent, and leave by failed when it was not', () => {
    const sent = nodeCompleted({ at: TEST_NOW, nodeId: 'menu', seq: 1, output: 'sent' });
    expect(on(sendButtonsNode, ctx, sent, { state: null })).toEqual({ type: 'stay', waitingFor: 'reply', state: null });
    const closed = nodeCompleted({ at: TEST_NOW, nodeId: 'menu', seq: 1, output: 'window_closed', data: { window: 'whatsapp_24h' } });
    expect(on(sendButtonsNode, ctx, closed)).toEqual({ type: 'leave', output: 'failed', data: { reason: 'window_closed', window: 'whatsapp_24h' } });
  });

  it('should match a pressed button by its id', () => {
    expect(on(sendButtonsNode, ctx, reply({ replyTo: 'returns', text: 'Returns' }))).toEqual({
      type: 'leave',
      output: 'returns',
      data: { reply: 'Returns', buttonId: 'returns', title: 'Returns' },
    });
  });

  it('should match a typed title in any case, and a number', () => {
    expect(on(sendButtonsNode, ctx, reply({ text: '  track ORDER ' }))).toMatchObject({ output: 'track' });
    expect(on(sendButtonsNode, ctx, reply({ text: '3' }))).toMatchObject({ output: 'agent', data: { buttonId: 'agent' } });
    expect(on(sendButtonsNode, ctx, reply({ text: '2.' }))).toMatchObject({ output: 'returns' });
  });

  it('should leave by no_match for any other reply', () => {
    expect(on(sendButtonsNode, ctx, reply({ text: 'where is my parcel?' }))).toEqual({
      type: 'leave',
      output: 'no_match',
      data: { reply: 'where is my parcel?', buttonId: null },
    });
    expect(on(sendButtonsNode, ctx, reply({ text: '4' }))).toMatchObject({ output: 'no_match' });
    expect(on(sendButtonsNode, ctx, reply({ media: { mediaType: 'image', url: 'https://x.example/a.jpg' } }))).toMatchObject({
      output: 'no_match',
      data: { reply: null },
    });
  });

  it('should leave by timeout when its timer fires', () => {
    expect(on(sendButtonsNode, ctx, timerFired('reply_timeout', TEST_NOW + 1_800_000))).toEqual({ type: 'leave', output: 'timeout' });
    expect(on(sendButtonsNode, ctx, timerFired('delay', TEST_NOW))).toEqual({ type: 'ignore' });
  });

  it('should refuse more than 10 buttons and ids that clash with its outputs', () => {
    const many = Array.from({ length: 11 }, (_, i) => ({ id: `b${i}`, title: `Option ${i}` }));
    expect(() => scopeFor(sendButtonsNode, { params: { text: 'Pick', buttons: many } })).toThrow(/invalid params/);
    expect(() => scopeFor(sendButtonsNode, { params: { text: 'Pick', buttons: [{ id: 'timeout', title: 'Later' }] } })).toThrow(/invalid params/);
  });
});
