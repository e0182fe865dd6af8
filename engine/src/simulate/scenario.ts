import type { JsonObject, JsonValue } from '../json.js';
import type { ChannelId } from '../flow/types.js';
import type { StatePatch } from '../catalogue/types.js';
import type { OutboundMessage } from '../message.js';
import type { RunOutcome, RunStatus } from '../run.js';
import { parseIsoDuration } from '../internal/iso-duration.js';

/**
 * A scripted conversation to test a flow against; see `schemas/scenario.schema.json`.
 *
 * @example
 * const scenario: Scenario = {
 *   name: 'asks for the email and thanks',
 *   contact: { name: 'Ada' },
 *   steps: [{ send: { text: 'ada@example.com' } }, { advance: 'PT1H' }],
 *   mocks: { crm: { output: 'success', data: { id: 42 } } },
 *   expect: { path: ['ask', 'crm', 'thanks'], sent: ['Your email?', 'Thanks!'], vars: { email: 'ada@example.com' } },
 * };
 */
export interface Scenario {
  name: string;
  description?: string;
  contact?: JsonObject;
  trigger?: JsonObject;
  vars?: Record<string, JsonValue>;
  /** When the run starts, ISO-8601 date-time. Default `2024-01-01T00:00:00.000Z`. */
  startAt?: string;
  /** The run id (it seeds deterministic randomness such as A/B splits). Default `simulation`. */
  runId?: string;
  /** The channel inbound messages come from. Default: the flow's first channel, else `simulator`. */
  channel?: ChannelId;
  steps?: ScenarioStep[];
  /** Outcomes of node actions by node id: one for every call, or one per call in order. */
  mocks?: Record<string, NodeMock | NodeMock[]>;
  /** Checked when every step has run. */
  expect?: ScenarioExpectation;
}

/** One step of a scenario. */
export type ScenarioStep =
  /** The contact sends a message (a string is its text). */
  | { send: string | { text?: string; replyTo?: string } }
  /** The clock moves on by an ISO-8601 duration; every timer falling due fires, in due order. */
  | { advance: string }
  /** Assertions on the run as it is at this point. */
  | { expect: ScenarioExpectation }
  /** The run is cancelled, with a reason. */
  | { cancel: string };

/** The outcome a mocked node action reports: an output (with data and patches) or an error. */
export type NodeMock =
  | { output: string; data?: JsonObject; set?: StatePatch }
  | { error: { code: string; message: string } };

/** What a scenario expects. Every field is optional; `vars` and `contact` are checked per key. */
export interface ScenarioExpectation {
  /** Node ids the run passed through, in order, from the start. */
  path?: string[];
  /** Messages sent from the start, in order: a string is the message text, an object is matched field by field. */
  sent?: Array<string | Partial<OutboundMessage> | JsonObject>;
  vars?: Record<string, JsonValue>;
  contact?: JsonObject;
  status?: RunStatus;
  outcome?: RunOutcome;
  error?: { code?: string; nodeId?: string };
  /** What the run waits for: `{ nodeId?, for? }`. */
  waiting?: { nodeId?: string; for?: 'reply' | 'timer' | 'effect' };
}

const STEP_KEYS = ['send', 'advance', 'expect', 'cancel'] as const;
const STATUSES = ['running', 'waiting', 'done', 'failed'];
const OUTCOMES = ['completed', 'cancelled', 'failed'];

/**
 * Checks a scenario's shape and says, in words, what is wrong with it.
 *
 * Pure.
 *
 * @returns readable problems; empty when the scenario can run.
 */
export function checkScenario(value: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return ['the scenario must be a JSON object'];
  if (typeof value.name !== 'string' || value.name === '') problems.push('scenario.name must be a non-empty string');
  for (const key of ['contact', 'trigger', 'vars', 'mocks'] as const) {
    if (value[key] !== undefined && !isObject(value[key])) problems.push(`scenario.${key} must be an object`);
  }
  for (const key of ['runId', 'channel', 'description'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') problems.push(`scenario.${key} must be a string`);
  }
  if (value.startAt !== undefined && (typeof value.startAt !== 'string' || Number.isNaN(Date.parse(value.startAt)))) {
    problems.push(`scenario.startAt must be an ISO-8601 date-time, got ${JSON.stringify(value.startAt)}`);
  }
  if (value.steps !== undefined && !Array.isArray(value.steps)) problems.push('scenario.steps must be an array');
  if (Array.isArray(value.steps)) {
    value.steps.forEach((step, i) => problems.push(...checkStep(step, `steps[${i}]`)));
  }
  if (isObject(value.mocks)) {
    for (const [nodeId, mock] of Object.entries(value.mocks)) {
      const list = Array.isArray(mock) ? mock : [mock];
      if (list.length === 0) problems.push(`mocks.${nodeId} is an empty list`);
      list.forEach((m, i) => {
        const where = Array.isArray(mock) ? `mocks.${nodeId}[${i}]` : `mocks.${nodeId}`;
        if (!isObject(m)) problems.push(`${where} must be an object with an output or an error`);
        else if (isObject(m.error)) {
          if (typeof m.error.code !== 'string' || typeof m.error.message !== 'string') problems.push(`${where}.error needs a code and a message (strings)`);
        } else if (typeof m.output !== 'string') problems.push(`${where} needs an output (string) or an error`);
      });
    }
  }
  if (value.expect !== undefined) problems.push(...checkExpectation(value.expect, 'expect'));
  return problems;
}

function checkStep(step: unknown, where: string): string[] {
  if (!isObject(step)) return [`${where} must be an object such as {"send": "hi"} or {"advance": "PT1H"}`];
  const keys = Object.keys(step);
  const kind = STEP_KEYS.find((key) => key in step);
  if (!kind || keys.length !== 1) return [`${where} must have exactly one of ${STEP_KEYS.join(', ')}; it has ${keys.join(', ') || 'none'}`];
  const body = step[kind];
  switch (kind) {
    case 'send':
      if (typeof body === 'string') return [];
      if (!isObject(body) || (body.text !== undefined && typeof body.text !== 'string') || (body.replyTo !== undefined && typeof body.replyTo !== 'string')) {
        return [`${where}.send must be a text or {"text"?: string, "replyTo"?: string}`];
      }
      return [];
    case 'advance':
      return typeof body === 'string' && parseIsoDuration(body) !== undefined
        ? []
        : [`${where}.advance must be an ISO-8601 duration such as "PT1H", "P1D" or "PT30M", got ${JSON.stringify(body)}`];
    case 'cancel':
      return typeof body === 'string' ? [] : [`${where}.cancel must be the reason (a string)`];
    case 'expect':
      return checkExpectation(body, `${where}.expect`);
  }
}

function checkExpectation(value: unknown, where: string): string[] {
  if (!isObject(value)) return [`${where} must be an object`];
  const problems: string[] = [];
  if (value.path !== undefined && !(Array.isArray(value.path) && value.path.every((p) => typeof p === 'string'))) {
    problems.push(`${where}.path must be a list of node ids`);
  }
  if (value.sent !== undefined && !(Array.isArray(value.sent) && value.sent.every((s) => typeof s === 'string' || isObject(s)))) {
    problems.push(`${where}.sent must be a list of texts or message objects`);
  }
  for (const key of ['vars', 'contact', 'error', 'waiting'] as const) {
    if (value[key] !== undefined && !isObject(value[key])) problems.push(`${where}.${key} must be an object`);
  }
  if (value.status !== undefined && !STATUSES.includes(value.status as string)) problems.push(`${where}.status must be one of ${STATUSES.join(', ')}`);
  if (value.outcome !== undefined && !OUTCOMES.includes(value.outcome as string)) problems.push(`${where}.outcome must be one of ${OUTCOMES.join(', ')}`);
  const known = ['path', 'sent', 'vars', 'contact', 'status', 'outcome', 'error', 'waiting'];
  for (const key of Object.keys(value)) if (!known.includes(key)) problems.push(`${where}.${key} is not something a scenario can expect (use ${known.join(', ')})`);
  return problems;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
