import { EVENT, type MessageButton, type WaitReaction } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';
import { ISO_DURATION_PATTERN } from '@convoflow/engine';
import { REPLY_TIMEOUT_TIMER, replyTimeoutAt } from '../../internal/reply-timeout.js';
import { sendOutcome } from '../../helpers/send-outcome.js';
import { matchButton } from './match-button.js';

/** Params of `send_buttons`. */
export interface SendButtonsParams {
  text: string;
  buttons: MessageButton[];
  /** ISO-8601 duration; default the flow's reply timeout. */
  timeout?: string;
}

const RESERVED = ['no_match', 'timeout', 'failed'];

/**
 * Send buttons: sends a message with reply buttons and waits for the choice. Leaves by the
 * chosen button's id, `no_match` for another reply, `timeout`, or `failed` when the message could
 * not be sent (including a closed window). Records `nodes.<id>.reply` and `nodes.<id>.buttonId`.
 */
export const sendButtonsNode = defineNode<SendButtonsParams>({
  type: 'send_buttons',
  typeVersion: 1,
  kind: 'wait',
  category: 'message',
  title: 'Buttons',
  description:
    'Sends a message with buttons (for example "Track order", "Talk to us") and follows the path of the button the contact picks. Typing the button text or its number works too. If there is no reply in time, the flow continues on Timeout.',
  icon: 'square-mouse-pointer',
  params: {
    type: 'object',
    properties: {
      text: { type: 'string', format: 'template', minLength: 1, maxLength: 1024 },
      buttons: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$', not: { enum: RESERVED } },
            title: { type: 'string', format: 'template', minLength: 1, maxLength: 64 },
          },
          required: ['id', 'title'],
          additionalProperties: false,
        },
      },
      timeout: { type: 'string', pattern: ISO_DURATION_PATTERN },
    },
    required: ['text', 'buttons'],
    additionalProperties: false,
  },
  outputs: { fixed: RESERVED, fromParam: { param: 'buttons', key: 'id' }, position: 'before' },
  waitsForReply: true,
  enter: (ctx) => {
    const { text, buttons } = ctx.params;
    return {
      type: 'stay',
      effects: [
        { type: 'sendMessage', message: { kind: 'buttons', text, buttons: buttons.map(({ id, title }) => ({ id, title })) } },
        { type: 'scheduleTimer', timerId: REPLY_TIMEOUT_TIMER, dueAt: replyTimeoutAt(ctx) },
      ],
      waitingFor: 'reply',
    };
  },
  on: (ctx, event, wait): WaitReaction => {
    if (event.type === EVENT.timerFired) {
      return event.timerId === REPLY_TIMEOUT_TIMER ? { type: 'leave', output: 'timeout' } : { type: 'ignore' };
    }
    if (event.type === EVENT.messageReceived) {
      const { message } = event;
      const chosen = matchButton(ctx.params.buttons, message);
      const reply = message.text ?? null;
      return chosen
        ? { type: 'leave', output: chosen.id, data: { reply, buttonId: chosen.id, title: chosen.title } }
        : { type: 'leave', output: 'no_match', data: { reply, buttonId: null } };
    }
    const outcome = sendOutcome(ctx.node.id, event);
    if (!outcome) return { type: 'ignore' };
    if (outcome.output === 'sent') return { type: 'stay', waitingFor: 'reply', state: wait.state };
    return { type: 'leave', output: 'failed', data: { reason: outcome.output, ...outcome.data } };
  },
});
