import { EVENT, type JsonObject, type JsonValue, type NodeScope, type StatePatch, type WaitReaction } from '@convoflow/engine';
import { defineNode } from '../../define-node.js';
import { ISO_DURATION_PATTERN } from '@convoflow/engine';
import { REPLY_TIMEOUT_TIMER, replyTimeoutAt } from '../../internal/reply-timeout.js';
import { sendOutcome } from '../../helpers/send-outcome.js';
import { parseAnswer, type AnswerType } from './parse-answer.js';

/** Params of `ask_question`. */
export interface AskQuestionParams {
  question: string;
  answerType: AnswerType;
  /** For `choice`: the accepted answers, offered as a numbered list under the question. */
  choices?: string[];
  /** How to read `03/04/2025` for `date` answers (default day first). */
  dateOrder?: 'DMY' | 'MDY';
  saveTo?: { variable?: string; contactField?: string };
  /** How many times to ask again after an invalid answer (default 2). */
  retries?: number;
  retryMessage?: string;
  timeout?: string;
}

/** Node-local progress of a question: invalid answers so far. */
interface AskState extends JsonObject {
  attempts: number;
}

const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_MESSAGE = "Sorry, I didn't understand that. Please try again.";

function questionText(params: AskQuestionParams): string {
  if (params.answerType !== 'choice' || !params.choices?.length) return params.question;
  return `${params.question}\n${params.choices.map((choice, i) => `${i + 1}. ${choice}`).join('\n')}`;
}

function saved(params: AskQuestionParams, answer: JsonValue): StatePatch | undefined {
  const { variable, contactField } = params.saveTo ?? {};
  const set: StatePatch = {};
  if (variable) set.vars = { [variable]: answer };
  if (contactField) set.contact = { [contactField]: answer };
  return set.vars || set.contact ? set : undefined;
}

const attemptsOf = (state: JsonValue): number =>
  state !== null && typeof state === 'object' && !Array.isArray(state) && typeof state.attempts === 'number' ? state.attempts : 0;

function onReply(ctx: NodeScope<AskQuestionParams>, text: string, attempts: number): WaitReaction {
  const { params } = ctx;
  const answer = parseAnswer(text, params.answerType, { choices: params.choices ?? [], dateOrder: params.dateOrder ?? 'DMY' });
  if (answer !== undefined) {
    const set = saved(params, answer);
    return { type: 'leave', output: 'answered', data: { answer, reply: text, attempts: attempts + 1 }, ...(set ? { set } : {}) };
  }
  const failed = attempts + 1;
  if (failed > (params.retries ?? DEFAULT_RETRIES)) {
    return { type: 'leave', output: 'invalid', data: { answer: null, reply: text, attempts: failed } };
  }
  const state: AskState = { attempts: failed };
  return {
    type: 'stay',
    effects: [{ type: 'sendMessage', message: { kind: 'text', text: params.retryMessage || DEFAULT_RETRY_MESSAGE } }],
    waitingFor: 'reply',
    state,
  };
}

/**
 * Ask question: asks, waits for the reply and checks it is a valid answer of the asked type
 * (text, number, email, phone, date or one of the choices). A valid answer is normalised, saved
 * to the variable and/or contact field, and leaves by `answered`; an invalid one is asked again
 * with the retry message up to `retries` times, then leaves by `invalid`. No reply in time leaves
 * by `timeout`; a question that could not be sent leaves by `failed`. Records
 * `nodes.<id>.answer`, `.reply` and `.attempts`.
 */
export const askQuestionNode = defineNode<AskQuestionParams>({
  type: 'ask_question',
  typeVersion: 1,
  kind: 'wait',
  category: 'message',
  title: 'Ask a question',
  description:
    'Asks the contact a question and saves the answer, for example their email address or preferred date. Answers that do not fit (such as an email without "@") are asked again, up to the number of retries you choose.',
  icon: 'message-circle-question',
  params: {
    type: 'object',
    properties: {
      question: { type: 'string', format: 'template', minLength: 1, maxLength: 4096 },
      answerType: { enum: ['text', 'number', 'email', 'phone', 'date', 'choice'], default: 'text' },
      choices: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, minItems: 1, maxItems: 20 },
      dateOrder: { enum: ['DMY', 'MDY'], default: 'DMY' },
      saveTo: {
        type: 'object',
        properties: {
          variable: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
          contactField: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' },
        },
        additionalProperties: false,
      },
      retries: { type: 'integer', minimum: 0, maximum: 10, default: DEFAULT_RETRIES },
      retryMessage: { type: 'string', format: 'template', maxLength: 4096, default: DEFAULT_RETRY_MESSAGE },
      timeout: { type: 'string', pattern: ISO_DURATION_PATTERN },
    },
    required: ['question', 'answerType'],
    additionalProperties: false,
    allOf: [{ if: { properties: { answerType: { const: 'choice' } } }, then: { required: ['choices'], properties: { choices: { type: 'array' } } } }],
  },
  outputs: ['answered', 'invalid', 'timeout', 'failed'],
  waitsForReply: true,
  writesVariables: ['saveTo.variable'],
  enter: (ctx) => {
    const state: AskState = { attempts: 0 };
    return {
      type: 'stay',
      effects: [
        { type: 'sendMessage', message: { kind: 'text', text: questionText(ctx.params) } },
        { type: 'scheduleTimer', timerId: REPLY_TIMEOUT_TIMER, dueAt: replyTimeoutAt(ctx) },
      ],
      waitingFor: 'reply',
      state,
    };
  },
  on: (ctx, event, wait): WaitReaction => {
    const attempts = attemptsOf(wait.state);
    if (event.type === EVENT.timerFired) {
      return event.timerId === REPLY_TIMEOUT_TIMER
        ? { type: 'leave', output: 'timeout', data: { answer: null, attempts } }
        : { type: 'ignore' };
    }
    if (event.type === EVENT.messageReceived) return onReply(ctx, event.message.text ?? '', attempts);
    const outcome = sendOutcome(ctx.node.id, event);
    if (!outcome) return { type: 'ignore' };
    if (outcome.output === 'sent') return { type: 'stay', waitingFor: 'reply', state: { attempts } };
    return { type: 'leave', output: 'failed', data: { reason: outcome.output, attempts, ...outcome.data } };
  },
});
