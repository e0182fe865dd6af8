import type { ChannelAdapter } from '../channel-port.js';

/**
 * The simulator channel: a conversation with no provider behind it. Delivering is recording, so a
 * send always succeeds and the runtime records it with the step that made it; the designer's test
 * chat and the end-to-end tests read the transcript back from the conversation log.
 */
export function createSimulatorChannel(): ChannelAdapter {
  return {
    channel: 'simulator',
    deliveredByRecording: true,
    send: async () => ({ status: 'sent' }),
  };
}
