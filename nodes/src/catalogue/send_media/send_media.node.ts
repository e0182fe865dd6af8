import type { OutboundMessage } from '@convoflow/engine';
import { sendNode } from '../../helpers/send-node.js';

/** Params of `send_media`. */
export interface SendMediaParams {
  mediaType: 'image' | 'video' | 'audio' | 'file';
  url: string;
  caption?: string;
  filename?: string;
}

/** Send media: sends an image, video, audio or file by URL; leaves by `sent`, `window_closed` or `failed`. */
export const sendMediaNode = sendNode<SendMediaParams>({
  type: 'send_media',
  typeVersion: 1,
  category: 'message',
  title: 'Send media',
  description:
    'Sends an image, video, audio clip or file from a web link, with an optional caption. Channels that cannot show the file send its link instead.',
  icon: 'image',
  params: {
    type: 'object',
    properties: {
      mediaType: { enum: ['image', 'video', 'audio', 'file'], default: 'image' },
      url: { type: 'string', format: 'template', minLength: 1, maxLength: 2048 },
      caption: { type: 'string', format: 'template', maxLength: 1024 },
      filename: { type: 'string', format: 'template', maxLength: 255 },
    },
    required: ['mediaType', 'url'],
    additionalProperties: false,
  },
  message: ({ params }) => {
    const message: OutboundMessage = { kind: 'media', mediaType: params.mediaType, url: params.url.trim() };
    if (params.caption) message.caption = params.caption;
    if (params.filename) message.filename = params.filename;
    return message;
  },
});
