import { sendNode } from '../../helpers/send-node.js';

/** Params of `send_text`. */
export interface SendTextParams {
  text: string;
}

/** Send text: sends a text message; leaves by `sent`, `window_closed` or `failed`. */
export const sendTextNode = sendNode<SendTextParams>({
  type: 'send_text',
  typeVersion: 1,
  category: 'message',
  title: 'Send message',
  description:
    'Sends a text message to the contact. You can personalise it, for example "Hi {{contact.firstName}}". If the channel\'s messaging window has closed, the flow continues on Window closed instead.',
  icon: 'message-square',
  params: {
    type: 'object',
    properties: { text: { type: 'string', format: 'template', minLength: 1, maxLength: 4096 } },
    required: ['text'],
    additionalProperties: false,
  },
  message: ({ params }) => ({ kind: 'text', text: params.text }),
});
