import { messageReceived, nodeCompleted, nodeFailed, timerFired, type JsonObject, type JsonValue } from '@convoflow/engine';
import { askQuestionNode, TEST_NOW } from '../src/index.js';
import { enter, on, scopeFor } from './support/behaviour.js';

const reply = (text: string) =>
  messageReceived({ id: `wamid.${text}`, channel: 'whatsapp', from: '+6590000000', text, sentAt: TEST_NOW }, TEST_NOW + 5000);
const ask = (params: JsonObject) => scopeFor(askQuestionNode, { nodeId: 'ask', params });
const answerOf = (params: JsonObject, text: string): JsonValue | undefined => {
  const reaction = on(askQuestionNode, ask(params), reply(text));
  return reaction.type === 'leave' && reaction.output === 'answered' ? (reaction.data?.answer as JsonValue) : undefined;
};

describe('ask_question node: asking', () => {
  it('should send the question, schedule the timeout and wait for the reply with no attempts yet', () => {
    const ctx = ask({ question: 'What is your email, Mei?', answerType: 'email', timeout: 'PT1H' });
    expect(enter(askQuestionNode, ctx)).toEqual({
      type: 'stay',
      effects: [
        { type: 'sendMessage', message: { kind: 'text', text: 'What is your email, Mei?' } },
        { type: 'scheduleTimer', timerId: 'reply_timeout', dueAt: TEST_NOW + 3_600_000 },
      ],
      waitingFor: 'reply',
      state: { attempts: 0 },
    });
  });

  it('should list the choices under the question', () => {
    const ctx = ask({ question: 'Which size?', answerType: 'choice', choices: ['Small', 'Medium', 'Large'] });
    expect(enter(askQuestionNode, ctx)).toMatchObject({
      effects: [{ type: 'sendMessage', message: { kind: 'text', text: 'Which size?\n1. Small\n2. Medium\n3. Large' } }, {}],
    });
  });

  it('should require choices for a choice question', () => {
    expect(() => ask({ question: 'Which size?', answerType: 'choice' })).toThrow(/choices/);
  });
});

describe('ask_question node: answers', () => {
  it('should save a valid answer to the variable and contact field and leave by answered', () => {
    const ctx = ask({ question: 'Email?', answerType: 'email', saveTo: { variable: 'email', contactField: 'email' } });
    expect(on(askQuestionNode, ctx, reply(' Mei.Tan@Example.COM '), { state: { attempts: 1 } })).toEqual({
      type: 'leave',
      output: 'answered',
      data: { answer: 'Mei.Tan@example.com', reply: ' Mei.Tan@Example.COM ', attempts: 2 },
      set: { vars: { email: 'Mei.Tan@example.com' }, contact: { email: 'Mei.Tan@example.com' } },
    });
  });

  it('should accept any non-blank text for a text question', () => {
    expect(answerOf({ question: 'Name?', answerType: 'text' }, '  Mei Tan ')).toBe('Mei Tan');
  });

  it('should parse numbers written in common ways', () => {
    const params = { question: 'How many?', answerType: 'number' };
    expect(answerOf(params, '42')).toBe(42);
    expect(answerOf(params, '-3.5')).toBe(-3.5);
    expect(answerOf(params, '1,250.50')).toBe(1250.5);
    expect(answerOf(params, '12,5')).toBe(12.5);
    expect(answerOf(params, '1 000')).toBe(1000);
    expect(answerOf(params, 'forty')).toBeUndefined();
    expect(answerOf(params, '4e5')).toBeUndefined();
  });

  it('should normalise phone numbers to digits with a leading + when international', () => {
    const params = { question: 'Phone?', answerType: 'phone' };
    expect(answerOf(params, '+65 9123 4567')).toBe('+6591234567');
    expect(answerOf(params, '0065-9123-4567')).toBe('+6591234567');
    expect(answerOf(params, '(555) 123-4567')).toBe('5551234567');
    expect(answerOf(params, '12345')).toBeUndefined();
    expect(answerOf(params, 'call me')).toBeUndefined();
    expect(answerOf(params, '+1234567890123456')).toBeUndefined();
  });

  it('should check emails', () => {
    const params = { question: 'Email?', answerType: 'email' };
    expect(answerOf(params, 'a.b+tag@mail.example.co')).toBe('a.b+tag@mail.example.co');
    for (const bad of ['mei@', 'mei.example.com', 'mei@example', 'me i@example.com', 'mei@-example.com']) {
      expect(answerOf(params, bad)).toBeUndefined();
    }
  });

  it('should read dates in ISO and common forms, day first by default', () => {
    const params = { question: 'Date?', answerType: 'date' };
    expect(answerOf(params, '2025-03-04')).toBe('2025-03-04');
    expect(answerOf(params, '2025-03-04T10:30')).toBe('2025-03-04T10:30');
    expect(answerOf(params, '04/03/2025')).toBe('2025-03-04');
    expect(answerOf(params, '4.3.2025')).toBe('2025-03-04');
    expect(answerOf(params, '2025/3/4')).toBe('2025-03-04');
    expect(answerOf(params, '4 March 2025')).toBe('2025-03-04');
    expect(answerOf(params, 'Mar 4th, 2025')).toBe('2025-03-04');
    expect(answerOf({ ...params, dateOrder: 'MDY' }, '03/04/2025')).toBe('2025-03-04');
    expect(answerOf(params, '31/02/2025')).toBeUndefined();
    expect(answerOf(params, 'tomorrow')).toBeUndefined();
  });

  it('should match choices by text in any case or by number, returning the choice as written', () => {
    const params = { question: 'Size?', answerType: 'choice', choices: ['Small', 'Extra large'] };
    expect(answerOf(params, 'extra  LARGE')).toBe('Extra large');
    expect(answerOf(params, '1')).toBe('Small');
    expect(answerOf(params, '3')).toBeUndefined();
    expect(answerOf(params, 'medium')).toBeUndefined();
  });
});

describe('ask_question node: retries and endings', () => {
  const params = { question: 'Email?', answerType: 'email', retries: 2, retryMessage: 'Hmm, that does not look like an email. Try again?' };
  const ctx = ask(params);

  it('should ask again with the retry message and count the attempt while retries are left', () => {
    expect(on(askQuestionNode, ctx, reply('no thanks'), { state: { attempts: 0 } })).toEqual({
      type: 'stay',
      effects: [{ type: 'sendMessage', message: { kind: 'text', text: 'Hmm, that does not look like an email. Try again?' } }],
      waitingFor: 'reply',
      state: { attempts: 1 },
    });
    expect(on(askQuestionNode, ctx, reply('still no'), { state: { attempts: 1 } })).toMatchObject({ type: 'stay', state: { attempts: 2 } });
  });

  it('should leave by invalid once the retries are used up', () => {
    expect(on(askQuestionNode, ctx, reply('nope'), { state: { attempts: 2 } })).toEqual({
      type: 'leave',
      output: 'invalid',
      data: { answer: null, reply: 'nope', attempts: 3 },
    });
    const noRetries = ask({ ...params, retries: 0 });
    expect(on(askQuestionNode, noRetries, reply('nope'), { state: { attempts: 0 } })).toMatchObject({ output: 'invalid' });
  });

  it('should use a default retry message and two retries when none are set', () => {
    const plain = ask({ question: 'Email?', answerType: 'email' });
    expect(on(askQuestionNode, plain, reply('x'), { state: { attempts: 1 } })).toMatchObject({
      type: 'stay',
      effects: [{ message: { text: "Sorry, I didn't understand that. Please try again." } }],
    });
    expect(on(askQuestionNode, plain, reply('x'), { state: { attempts: 2 } })).toMatchObject({ output: 'invalid' });
  });

  it('should keep waiting when a question or retry is sent, keeping the attempts', () => {
    const sent = nodeCompleted({ at: TEST_NOW, nodeId: 'ask', seq: 3, output: 'sent' });
    expect(on(askQuestionNode, ctx, sent, { state: { attempts: 1 } })).toEqual({ type: 'stay', waitingFor: 'reply', state: { attempts: 1 } });
  });

  it('should leave by failed when the question could not be sent', () => {
    const closed = nodeCompleted({ at: TEST_NOW, nodeId: 'ask', seq: 1, output: 'window_closed' });
    expect(on(askQuestionNode, ctx, closed, { state: { attempts: 0 } })).toEqual({
      type: 'leave',
      output: 'failed',
      data: { reason: 'window_closed', attempts: 0 },
    });
    const failed = nodeFailed({ at: TEST_NOW, nodeId: 'ask', seq: 1, error: { code: 'CHANNEL_DOWN', message: '503' } });
    expect(on(askQuestionNode, ctx, failed)).toMatchObject({ output: 'failed', data: { error: { code: 'CHANNEL_DOWN' } } });
  });

  it('should leave by timeout when no answer comes in time', () => {
    expect(on(askQuestionNode, ctx, timerFired('reply_timeout', TEST_NOW + 86_400_000), { state: { attempts: 1 } })).toEqual({
      type: 'leave',
      output: 'timeout',
      data: { answer: null, attempts: 1 },
    });
  });

  it('should declare its outputs and the variable it writes', () => {
    expect(askQuestionNode.manifest.outputs).toEqual(['answered', 'invalid', 'timeout', 'failed']);
    expect(askQuestionNode.manifest.writesVariables).toEqual(['saveTo.variable']);
  });
});
