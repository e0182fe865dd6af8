import type { ChannelAdapter } from '../channel-port.js';

/**
 * The simulator channel: a conversation with no provider behind it. Delivering is recording, which
 * the effect executor does for every channel, so a send always succeeds; the designer's test chat
 * and the end-to-end tests read the transcript back from the conversation log.
 */
export function createSimulatorChannel(): ChannelAdapter {
  return {
    channel: 'simulator',
    send: async () => ({ status: 'sent' }),
  };
}
