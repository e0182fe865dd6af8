import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import flowSchemaFile from '../../schemas/flow.schema.json' with { type: 'json' };
import manifestSchemaFile from '../../schemas/node-manifest.schema.json' with { type: 'json' };
import messageSchemaFile from '../../schemas/message.schema.json' with { type: 'json' };
import { CHANNELS, TRIGGER_TYPES, flowSchema, messageSchema, nodeManifestSchema } from '../src/index.js';
import type { FlowDefinition, FlowTrigger, InboundMessage, NodeManifest, OutboundMessage } from '../src/index.js';
import { validateCatalogue, validFlow } from './fixtures/validate-catalogue.js';

/** A fresh, strict instance: the schemas must stand on their own, without the engine's set-up. */
function strictAjv(): InstanceType<typeof Ajv2020> {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('template', true);
  ajv.addFormat('duration', /^P/);
  ajv.addFormat('cron', true);
  ajv.addFormat('timezone', true);
  return ajv;
}

function compileAll() {
  const ajv = strictAjv();
  const flow = ajv.compile(flowSchemaFile);
  const manifest = ajv.compile(manifestSchemaFile);
  ajv.compile(messageSchemaFile);
  const messages = 'https://convoflow.dev/schemas/message.schema.json#/$defs/';
  const outbound = ajv.getSchema(`${messages}OutboundMessage`) as ValidateFunction;
  const inbound = ajv.getSchema(`${messages}InboundMessage`) as ValidateFunction;
  return { flow, manifest, outbound, inbound };
}

let flow: ValidateFunction;
let manifest: ValidateFunction;
let outbound: ValidateFunction;
let inbound: ValidateFunction;
beforeAll(() => {
  ({ flow, manifest, outbound, inbound } = compileAll());
});

const flowWith = (edit: (f: FlowDefinition) => void): FlowDefinition => {
  const f = validFlow();
  edit(f);
  return f;
};
const withTrigger = (trigger: Omit<FlowTrigger, 'id'>): FlowDefinition =>
  flowWith((f) => {
    f.triggers = [{ id: 't1', ...trigger }];
  });

describe('the JSON Schemas', () => {
  it('should compile all three under Ajv2020 strict mode', () => {
    const compiled = compileAll();
    for (const fn of Object.values(compiled)) expect(typeof fn).toBe('function');
  });

  it('should be the documents the engine exports', () => {
    expect(flowSchema).toEqual(flowSchemaFile);
    expect(nodeManifestSchema).toEqual(manifestSchemaFile);
    expect(messageSchema).toEqual(messageSchemaFile);
    expect(flowSchemaFile.$id).toBe('https://convoflow.dev/schemas/flow.schema.json');
    expect(flowSchemaFile.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('should list the same channels and trigger types as the engine', () => {
    expect(flowSchemaFile.$defs.channel.enum).toEqual([...CHANNELS]);
    expect(flowSchemaFile.$defs.trigger.properties.type.enum).toEqual([...TRIGGER_TYPES]);
    expect(messageSchemaFile.$defs.channel.enum).toEqual([...CHANNELS]);
    expect(manifestSchemaFile.properties.channels.items.enum).toEqual([...CHANNELS]);
  });
});

describe('flow.schema.json', () => {
  it('should accept a valid flow', () => {
    expect(flow(validFlow())).toBe(true);
  });

  it.each<[string, Omit<FlowTrigger, 'id'>]>([
    ['message.received', { type: 'message.received', params: { channels: ['whatsapp'] } }],
    ['message.received on any channel', { type: 'message.received', params: {} }],
    ['keyword', { type: 'keyword', params: { keywords: ['hi'], match: 'contains', caseSensitive: true } }],
    ['keyword regex', { type: 'keyword', params: { keywords: ['^hel+o$'], match: 'regex' } }],
    ['contact.created', { type: 'contact.created', params: {} }],
    ['contact.updated', { type: 'contact.updated', params: { fields: ['email'] } }],
    ['schedule', { type: 'schedule', params: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' } }],
    ['webhook', { type: 'webhook', params: { secret: '0123456789abcdef' } }],
    ['api', { type: 'api', params: {}, oneActiveRunPerContact: true }],
  ])('should accept a %s trigger', (_name, trigger) => {
    expect(flow(withTrigger(trigger))).toBe(true);
  });

  it.each<[string, Omit<FlowTrigger, 'id'>]>([
    ['a keyword trigger without keywords', { type: 'keyword', params: { match: 'exact' } }],
    ['a keyword trigger with an invalid regex', { type: 'keyword', params: { keywords: ['(unclosed'], match: 'regex' } }],
    ['a keyword trigger with an unknown match', { type: 'keyword', params: { keywords: ['hi'], match: 'fuzzy' } }],
    ['a schedule without a time zone', { type: 'schedule', params: { cron: '0 9 * * *' } }],
    ['a schedule with a two-field cron', { type: 'schedule', params: { cron: '0 9', timezone: 'UTC' } }],
    ['a webhook with a short secret', { type: 'webhook', params: { secret: 'short' } }],
    ['params a contact.created trigger does not take', { type: 'contact.created', params: { fields: ['x'] } }],
    ['a message trigger on an unknown channel', { type: 'message.received', params: { channels: ['fax'] } }],
    ['an unknown trigger type', { type: 'sms.sent' as FlowTrigger['type'], params: {} }],
  ])('should reject %s', (_name, trigger) => {
    expect(flow(withTrigger(trigger))).toBe(false);
  });

  it.each<[string, (f: FlowDefinition) => void]>([
    ['an unknown top-level field', (f) => Object.assign(f, { owner: 'me' })],
    ['an unknown node field', (f) => Object.assign(f.nodes[0]!, { color: 'red' })],
    ['a node id with spaces', (f) => (f.nodes[0]!.id = 'my node')],
    ['a node type version of 0', (f) => (f.nodes[0]!.typeVersion = 0)],
    ['a fractional node type version', (f) => (f.nodes[0]!.typeVersion = 1.5)],
    ['a node without a position', (f) => delete (f.nodes[0] as Partial<FlowDefinition['nodes'][number]>).position],
    ['an edge without an output', (f) => delete (f.edges[0] as Partial<FlowDefinition['edges'][number]>).sourceOutput],
    ['a variable name starting with a digit', (f) => (f.variables[0]!.name = '1st')],
    ['a variable of an unknown type', (f) => (f.variables[0]!.type = 'money' as 'string')],
    ['a number variable with a text default', (f) => (f.variables = [{ name: 'n', type: 'number', default: 'ten' }])],
    ['a reply timeout that is not an ISO duration', (f) => (f.settings.defaultReplyTimeout = '24h')],
    ['an empty ISO duration', (f) => (f.settings.defaultReplyTimeout = 'P')],
    ['an unknown waiting-run policy', (f) => (f.settings.onWaitingRunExpired = 'ignore' as 'resume')],
    ['a channel listed twice', (f) => (f.settings.channels = ['sms', 'sms'])],
    ['settings without honourInterruptKeywords', (f) => delete (f.settings as Partial<FlowDefinition['settings']>).honourInterruptKeywords],
  ])('should reject %s', (_name, edit) => {
    expect(flow(flowWith(edit))).toBe(false);
  });

  it('should accept ISO durations of days, hours, minutes and seconds', () => {
    for (const d of ['PT24H', 'PT30M', 'P2D', 'P1DT12H', 'PT0.5S', 'P1W']) {
      expect(flow(flowWith((f) => (f.settings.defaultReplyTimeout = d)))).toBe(true);
    }
  });

  it('should note the defaults of optional settings', () => {
    const settings = flowSchemaFile.$defs.settings.properties;
    expect(settings.defaultReplyTimeout.default).toBe('PT24H');
    expect(settings.honourInterruptKeywords.default).toBe(true);
    expect(settings.onWaitingRunExpired.default).toBe('resume');
  });
});

describe('node-manifest.schema.json', () => {
  const base = (): NodeManifest => structuredClone(validateCatalogue.get('ask_question', 1)!.manifest);

  it('should accept every manifest of the test catalogue', () => {
    for (const definition of validateCatalogue.list()) {
      const ok = manifest(definition.manifest);
      expect([definition.manifest.type, ok, manifest.errors]).toEqual([definition.manifest.type, true, null]);
    }
  });

  it.each<[string, (m: NodeManifest) => void]>([
    ['params that are not an object schema', (m) => (m.params = { type: 'string' })],
    ['params that are not a JSON Schema', (m) => (m.params = { type: 'object', properties: 5 })],
    ['an unknown kind', (m) => (m.kind = 'async' as 'wait')],
    ['an unknown category', (m) => (m.category = 'misc' as 'custom')],
    ['a wait for a reply without a timeout output', (m) => (m.outputs = ['answered'])],
    ['outputs from a param without a key', (m) => (m.outputs = { fixed: ['timeout'], fromParam: { param: 'buttons' } } as never)],
    ['a type with capitals', (m) => (m.type = 'AskQuestion')],
    ['a version of 0', (m) => (m.typeVersion = 0)],
    ['an unknown channel', (m) => (m.channels = ['fax' as 'sms'])],
    ['an invalid variable path', (m) => (m.writesVariables = ['saveTo..variable'])],
  ])('should reject %s', (_name, edit) => {
    const m = base();
    edit(m);
    expect(manifest(m)).toBe(false);
  });
});

describe('message.schema.json', () => {
  it.each<[string, OutboundMessage]>([
    ['text', { kind: 'text', text: 'Hello' }],
    ['media', { kind: 'media', mediaType: 'image', url: 'https://example.com/a.png', caption: 'A' }],
    ['buttons', { kind: 'buttons', text: 'Pick', buttons: [{ id: 'a', title: 'A' }] }],
    ['list', { kind: 'list', text: 'Pick', buttonText: 'Open', rows: [{ id: 'r', title: 'Row', description: 'd' }] }],
    ['template', { kind: 'template', name: 'order_update', language: 'en_US', variables: ['42'] }],
    ['location', { kind: 'location', latitude: 1.29, longitude: 103.85, name: 'Office' }],
  ])('should accept an outbound %s message', (_name, message) => {
    expect(outbound(message)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a text message without text', { kind: 'text' }],
    ['an unknown kind', { kind: 'sticker', id: 'x' }],
    ['buttons without any button', { kind: 'buttons', text: 'Pick', buttons: [] }],
    ['a field of another kind', { kind: 'text', text: 'Hi', url: 'https://example.com' }],
    ['a latitude out of range', { kind: 'location', latitude: 100, longitude: 0 }],
    ['media with a relative url', { kind: 'media', mediaType: 'image', url: 'a.png' }],
  ])('should reject an outbound message with %s', (_name, message) => {
    expect(outbound(message)).toBe(false);
  });

  const reply: InboundMessage = {
    id: 'wamid.1',
    channel: 'whatsapp',
    from: '+6591234567',
    text: 'Yes',
    replyTo: 'yes',
    sentAt: 1_714_550_400_000,
    raw: { entry: [] },
  };

  it('should accept an inbound message', () => {
    expect(inbound(reply)).toBe(true);
    expect(inbound({ id: 'm', channel: 'sms', from: '+1', sentAt: 0, location: { latitude: 0, longitude: 0 } })).toBe(true);
  });

  it.each<[string, unknown]>([
    ['no channel', { ...reply, channel: undefined }],
    ['an unknown channel', { ...reply, channel: 'fax' }],
    ['a fractional timestamp', { ...reply, sentAt: 1.5 }],
    ['an unknown field', { ...reply, read: true }],
  ])('should reject an inbound message with %s', (_name, message) => {
    expect(inbound(JSON.parse(JSON.stringify(message)))).toBe(false);
  });
});

describe('durations', () => {
  it('should accept in the flow schema exactly the durations the engine can parse', async () => {
    const { ISO_DURATION_PATTERN, parseIsoDuration, flowSchema } = await import('../src/index.js');
    const settings = (flowSchema as { $defs: Record<string, { properties?: Record<string, { pattern?: string }> }> }).$defs;
    const patterns = Object.values(settings).map((d) => d.properties?.defaultReplyTimeout?.pattern).filter(Boolean);
    expect(patterns).toEqual([ISO_DURATION_PATTERN]);
    expect(parseIsoDuration('P1DT12H')).toBe(36 * 3_600_000);
    expect(parseIsoDuration('PT1.5S')).toBe(1_500);
    expect(parseIsoDuration('P1M')).toBeUndefined();
    expect(parseIsoDuration('P')).toBeUndefined();
    expect(parseIsoDuration('PT')).toBeUndefined();
  });
});
