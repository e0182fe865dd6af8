import type { JsonObject, JsonValue } from '../json.js';

/** The channels a flow can run on (see shared/reference/channels.md). */
export const CHANNELS = [
  'whatsapp',
  'messenger',
  'instagram',
  'wechat',
  'line',
  'telegram',
  'viber',
  'sms',
  'webchat',
  'simulator',
] as const;
export type ChannelId = (typeof CHANNELS)[number];

/** The kinds of trigger a flow may start on. */
export const TRIGGER_TYPES = [
  'message.received',
  'keyword',
  'contact.created',
  'contact.updated',
  'schedule',
  'webhook',
  'api',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** What starts a run of a flow. `params` depend on `type`; see schemas/flow.schema.json. */
export interface FlowTrigger {
  id: string;
  type: TriggerType;
  params: JsonObject;
  /** When true, a contact with an active run of this flow does not get a second one. */
  oneActiveRunPerContact?: boolean;
}

/** A node instance placed on the canvas. */
export interface FlowNode {
  id: string;
  type: string;
  typeVersion: number;
  position: { x: number; y: number };
  label?: string;
  params: JsonObject;
}

/** A wire from one named output of a node to another node. */
export interface FlowEdge {
  id: string;
  source: string;
  sourceOutput: string;
  target: string;
}

export type VariableType = 'string' | 'number' | 'boolean' | 'date' | 'object' | 'array';

/** A flow-scoped variable, readable in templates and conditions as `vars.<name>`. */
export interface FlowVariable {
  name: string;
  type: VariableType;
  default?: JsonValue;
  description?: string;
}

/** What happens to a run waiting for a reply when a new trigger would start the same flow again. */
export type WaitingRunExpiry = 'resume' | 'restart';

export interface FlowSettings {
  /** Channels the flow runs on; the designer warns when a node cannot render on one of them. */
  channels: ChannelId[];
  /** Default timeout of every wait for a reply, as an ISO-8601 duration (e.g. `PT24H`). */
  defaultReplyTimeout: string;
  /** Whether workspace-wide interrupt keywords (e.g. STOP, menu) end a run of this flow. */
  honourInterruptKeywords: boolean;
  /** What a message does to a run that is waiting when the flow is triggered again. */
  onWaitingRunExpired: WaitingRunExpiry;
}

/** The flow document the designer saves and the engine compiles. */
export interface FlowDefinition {
  id: string;
  name: string;
  description?: string;
  triggers: FlowTrigger[];
  nodes: FlowNode[];
  edges: FlowEdge[];
  variables: FlowVariable[];
  settings: FlowSettings;
}
