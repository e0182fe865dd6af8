import { EVENT, nodeCompleted, nodeFailed, timerFired, type JsonObject, type JsonSchema } from '@convoflow/engine';
import {
  actionNode,
  createNodeScope,
  createWaitState,
  defineNode,
  nodeOutputs,
  NodeDefinitionError,
  sendNode,
  type NodeSpec,
} from '../src/index.js';

const params: JsonSchema = { type: 'object', properties: { text: { type: 'string', format: 'template' } }, required: ['text'] };
const base = {
  type: 'shout',
  typeVersion: 1,
  category: 'data' as const,
  title: 'Shout',
  description: 'Saves the text in capitals.',
  icon: 'megaphone',
  params,
};

const pureSpec: NodeSpec<{ text: string }> = {
  ...base,
  kind: 'pure',
  outputs: ['next'],
  resolve: ({ params }) => ({ output: 'next', set: { vars: { shout: params.text.toUpperCase() } } }),
};

const broken = (patch: Record<string, unknown>): NodeSpec => ({ ...pureSpec, ...patch }) as unknown as NodeSpec;

describe('defineNode', () => {
  it('should split a spec into a serialisable manifest and a behaviour with typed params', () => {
    const node = defineNode(pureSpec);
    expect(node.manifest).toEqual({ ...base, kind: 'pure', outputs: ['next'] });
    expect(JSON.parse(JSON.stringify(node.manifest))).toEqual(node.manifest);
    expect(node.execute).toBeUndefined();
    const ctx = createNodeScope<JsonObject>({ params: { text: 'hi' } });
    expect(node.behaviour.kind === 'pure' && node.behaviour.resolve(ctx)).toEqual({
      output: 'next',
      set: { vars: { shout: 'HI' } },
    });
  });

  it.each([
    [{ outputs: undefined }, 'outputs are missing'],
    [{ outputs: [] }, 'must name at least one output'],
    [{ outputs: ['a', 'a'] }, 'names "a" twice'],
    [{ type: 'Send Text' }, 'type must be lower case'],
    [{ typeVersion: 0 }, 'typeVersion must be a whole number'],
    [{ kind: 'magic' }, 'kind must be one of'],
    [{ category: 'misc' }, 'category must be one of'],
    [{ title: ' ' }, 'title is required'],
    [{ description: undefined }, 'description is required'],
    [{ icon: '' }, 'icon is required'],
    [{ params: { type: 'string' } }, 'params must be a JSON Schema with type "object"'],
    [{ params: { type: 'object', default: () => 1 } }, 'params must be plain JSON'],
    [{ resolve: undefined }, 'resolve must be a function on a pure node'],
    [{ execute: async () => ({ output: 'next' }) }, 'execute is not allowed on a pure node'],
    [{ enter: () => ({ type: 'ignore' }) }, 'enter is not allowed on a pure node'],
    [{ waitsForReply: true, outputs: ['next', 'timeout'] }, 'waitsForReply is only allowed on a wait node'],
    [{ writesVariables: ['saveTo.variable'] }, 'writesVariables names "saveTo.variable"'],
    [{ channels: ['whatsapp', 'carrier-pigeon'] }, 'unknown channel "carrier-pigeon"'],
    [{ outputs: { fixed: ['default'], fromParam: { param: 'text', key: 'id' } } }, 'outputs.fromParam.param names "text"'],
  ])('should reject a bad spec (%j) with an error saying: %s', (patch, message) => {
    expect(() => defineNode(broken(patch))).toThrow(NodeDefinitionError);
    expect(() => defineNode(broken(patch))).toThrow(expect.objectContaining({ code: 'NODE_DEFINITION_INVALID', nodeType: expect.any(String) }));
    expect(() => defineNode(broken(patch))).toThrow(message);
  });

  it('should require a timeout output on a node that waits for a reply', () => {
    const spec = { ...base, kind: 'wait', outputs: ['answered'], waitsForReply: true, enter: () => ({ type: 'ignore' }), on: () => ({ type: 'ignore' }) };
    expect(() => defineNode(spec as unknown as NodeSpec)).toThrow('must include "timeout"');
  });

  it('should require empty outputs and no functions on jump and end nodes', () => {
    expect(() => defineNode({ ...base, kind: 'end' as const, outputs: ['next'] })).toThrow('outputs must be empty on a end node');
    expect(() => defineNode({ ...base, kind: 'jump', outputs: [], resolve: () => ({ output: 'x' }) } as unknown as NodeSpec)).toThrow(
      'resolve is not allowed on a jump node',
    );
    expect(defineNode({ ...base, kind: 'end' as const, outputs: [] }).behaviour).toEqual({ kind: 'end' });
  });

  it('should accept writesVariables paths through arrays of objects', () => {
    const node = defineNode({
      ...pureSpec,
      params: {
        type: 'object',
        properties: { list: { type: 'array', items: { type: 'object', properties: { variable: { type: 'string' } } } } },
      },
      writesVariables: ['list.variable'],
    });
    expect(node.manifest.writesVariables).toEqual(['list.variable']);
  });
});

describe('nodeOutputs', () => {
  it('should put outputs from an array param before or after the fixed ones', () => {
    const spec = { fixed: ['timeout'], fromParam: { param: 'buttons', key: 'id' } };
    const params: JsonObject = { buttons: [{ id: 'yes' }, { id: 'no' }, { title: 'no id' }] };
    expect(nodeOutputs({ outputs: spec }, params)).toEqual(['yes', 'no', 'timeout']);
    expect(nodeOutputs({ outputs: { ...spec, position: 'after' } }, params)).toEqual(['timeout', 'yes', 'no']);
    expect(nodeOutputs({ outputs: spec }, {})).toEqual(['timeout']);
    expect(nodeOutputs({ outputs: ['a', 'b'] }, params)).toEqual(['a', 'b']);
  });
});

describe('actionNode', () => {
  const lookup = actionNode<{ email: string }>({
    ...base,
    type: 'crm_lookup',
    params: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] },
    outputs: ['found', 'not_found', 'error'],
    failureOutput: 'error',
    execute: async (_ctx, params) => (params.email.endsWith('@example.com') ? { output: 'found', data: { id: 'c-1' } } : { output: 'not_found' }),
  });
  const ctx = createNodeScope<JsonObject>({ nodeId: 'lookup_1', params: { email: 'ada@example.com' } });
  const on = (event: Parameters<Extract<typeof lookup.behaviour, { kind: 'wait' }>['on']>[1]) =>
    lookup.behaviour.kind === 'wait' ? lookup.behaviour.on(ctx, event, createWaitState({ pendingSeqs: [3] })) : undefined;

  it('should emit executeNode with the rendered params on entering', () => {
    expect(lookup.behaviour.kind === 'wait' && lookup.behaviour.enter(ctx)).toEqual({
      type: 'stay',
      effects: [{ type: 'executeNode', params: { email: 'ada@example.com' } }],
      waitingFor: 'effect',
    });
    expect(lookup.manifest.kind).toBe('wait');
  });

  it('should leave by the output execute returned, with its data and variables', () => {
    const event = nodeCompleted({ at: 1, nodeId: 'lookup_1', seq: 3, output: 'found', data: { id: 'c-1' }, set: { vars: { customerId: 'c-1' } } });
    expect(on(event)).toEqual({ type: 'leave', output: 'found', data: { id: 'c-1' }, set: { vars: { customerId: 'c-1' } } });
  });

  it('should leave by the failure output on node.failed or an output the node does not have', () => {
    expect(on(nodeFailed({ at: 1, nodeId: 'lookup_1', seq: 3, error: { code: 'E_CRM', message: 'down' } }))).toEqual({
      type: 'leave',
      output: 'error',
      data: { error: { code: 'E_CRM', message: 'down' } },
    });
    expect(on(nodeCompleted({ at: 1, nodeId: 'lookup_1', seq: 3, output: 'maybe' }))).toMatchObject({
      type: 'leave',
      output: 'error',
      data: { error: { code: 'UNKNOWN_OUTPUT' } },
    });
  });

  it('should ignore events of other nodes and timers', () => {
    expect(on(nodeCompleted({ at: 1, nodeId: 'other', seq: 9, output: 'found' }))).toEqual({ type: 'ignore' });
    expect(on(timerFired('t', 1))).toEqual({ type: 'ignore' });
  });

  it('should run execute with typed params', async () => {
    const result = await lookup.execute?.(
      { runId: 'r', nodeId: 'lookup_1', idempotencyKey: 'r:1', fetch, log: () => undefined, signal: new AbortController().signal, config: { allowPrivateNetwork: false } },
      { email: 'bob@other.org' },
    );
    expect(result).toEqual({ output: 'not_found' });
  });

  it('should refuse a failure output that is not one of the outputs', () => {
    expect(() =>
      actionNode({ ...base, outputs: ['ok'], failureOutput: 'error', execute: async () => ({ output: 'ok' }) }),
    ).toThrow('failureOutput "error" must be one of the fixed outputs');
  });
});

describe('sendNode', () => {
  const notify = sendNode<{ text: string }>({ ...base, type: 'notify', message: ({ params }) => ({ kind: 'text', text: params.text }) });
  const ctx = createNodeScope<JsonObject>({ nodeId: 'n1', params: { text: 'Hello' } });

  it('should have the send outputs and emit sendMessage on entering', () => {
    expect(notify.manifest.outputs).toEqual(['sent', 'window_closed', 'failed']);
    expect(notify.behaviour.kind === 'wait' && notify.behaviour.enter(ctx)).toEqual({
      type: 'stay',
      effects: [{ type: 'sendMessage', message: { kind: 'text', text: 'Hello' } }],
      waitingFor: 'effect',
    });
  });

  it('should leave by the send outcome, treating unknown outcomes as failed', () => {
    const on = (output: string) =>
      notify.behaviour.kind === 'wait' &&
      notify.behaviour.on(ctx, nodeCompleted({ at: 1, nodeId: 'n1', seq: 1, output, data: { providerId: 'wamid.1' } }), createWaitState());
    expect(on('sent')).toEqual({ type: 'leave', output: 'sent', data: { providerId: 'wamid.1' } });
    expect(on('window_closed')).toMatchObject({ type: 'leave', output: 'window_closed' });
    expect(on('exploded')).toMatchObject({ type: 'leave', output: 'failed' });
    expect(EVENT.nodeCompleted).toBe('node.completed');
  });
});
