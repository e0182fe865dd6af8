import { messageReceived, nodeCompleted, nodeFailed } from '@convoflow/engine';
import { sendMediaNode, sendTextNode, TEST_NOW } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';

describe('send_text node', () => {
  const ctx = scopeFor(sendTextNode, { nodeId: 'welcome', params: { text: 'Hi Mei, your order A1 has shipped.' } });

  it('should send its text and wait for the outcome', () => {
    expect(enter(sendTextNode, ctx)).toEqual({
      type: 'stay',
      effects: [{ type: 'sendMessage', message: { kind: 'text', text: 'Hi Mei, your order A1 has shipped.' } }],
      waitingFor: 'effect',
    });
  });

  it('should leave by sent, window_closed or failed as the runtime reports', () => {
    const done = (output: string) => on(sendTextNode, ctx, nodeCompleted({ at: TEST_NOW, nodeId: 'welcome', seq: 1, output, data: { status: output } }), { pendingSeqs: [1] });
    expect(done('sent')).toEqual({ type: 'leave', output: 'sent', data: { status: 'sent' } });
    expect(done('window_closed')).toEqual({ type: 'leave', output: 'window_closed', data: { status: 'window_closed' } });
    expect(done('failed')).toEqual({ type: 'leave', output: 'failed', data: { status: 'failed' } });
  });

  it('should leave by failed with the error when the send failed for good', () => {
    const event = nodeFailed({ at: TEST_NOW, nodeId: 'welcome', seq: 1, error: { code: 'CHANNEL_DOWN', message: 'provider 503', retryable: true } });
    expect(on(sendTextNode, ctx, event)).toEqual({
      type: 'leave',
      output: 'failed',
      data: { error: { code: 'CHANNEL_DOWN', message: 'provider 503', retryable: true } },
    });
  });

  it('should ignore replies and other nodes', () => {
    const reply = messageReceived({ id: 'm1', channel: 'whatsapp', from: '+6590000000', text: 'thanks', sentAt: TEST_NOW }, TEST_NOW);
    expect(on(sendTextNode, ctx, reply)).toEqual({ type: 'ignore' });
    expect(on(sendTextNode, ctx, nodeCompleted({ at: TEST_NOW, nodeId: 'other', seq: 2, output: 'sent' }))).toEqual({ type: 'ignore' });
  });

  it('should refuse an empty text', () => {
    expect(() => scopeFor(sendTextNode, { params: { text: '' } })).toThrow(/invalid params/);
  });
});

describe('send_media node', () => {
  it('should send the media with its caption and file name', () => {
    const params = { mediaType: 'file', url: ' https://cdn.example.com/invoices/A1.pdf ', caption: 'Your invoice', filename: 'A1.pdf' };
    expect(enter(sendMediaNode, scopeFor(sendMediaNode, { params }))).toEqual({
      type: 'stay',
      effects: [
        {
          type: 'sendMessage',
          message: { kind: 'media', mediaType: 'file', url: 'https://cdn.example.com/invoices/A1.pdf', caption: 'Your invoice', filename: 'A1.pdf' },
        },
      ],
      waitingFor: 'effect',
    });
  });

  it('should leave out an empty caption', () => {
    const params = { mediaType: 'image', url: 'https://cdn.example.com/p.jpg', caption: '' };
    const reaction = enter(sendMediaNode, scopeFor(sendMediaNode, { params }));
    expect(reaction).toMatchObject({ effects: [{ message: { kind: 'media', mediaType: 'image', url: 'https://cdn.example.com/p.jpg' } }] });
    expect(JSON.stringify(reaction)).not.toContain('caption');
  });

  it('should leave by the send outcome', () => {
    const ctx = scopeFor(sendMediaNode, { nodeId: 'photo', params: { mediaType: 'image', url: 'https://cdn.example.com/p.jpg' } });
    expect(on(sendMediaNode, ctx, nodeCompleted({ at: TEST_NOW, nodeId: 'photo', seq: 4, output: 'window_closed' }))).toEqual({
      type: 'leave',
      output: 'window_closed',
    });
  });

  it('should refuse an unknown media type', () => {
    expect(() => scopeFor(sendMediaNode, { params: { mediaType: 'sticker', url: 'https://x.example/s.webp' } })).toThrow(/invalid params/);
  });
});
