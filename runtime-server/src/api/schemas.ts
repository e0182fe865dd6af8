import { readFileSync } from 'node:fs';
import type { JsonObject, JsonSchema } from '@convoflow/engine';

/**
 * The JSON Schemas of the REST API: request bodies (validated with ajv) and responses (documented),
 * published as `components.schemas` of `/openapi.json`. Refs are `#/components/schemas/<Name>`, so
 * the same object is both the OpenAPI components and the ajv schema document.
 */

/** Reads a schema shipped in `schemas/` at the repository top, or undefined when it is missing. */
function loadRepoSchema(file: string): JsonObject | undefined {
  try {
    return JSON.parse(readFileSync(new URL(`../../../schemas/${file}`, import.meta.url), 'utf8')) as JsonObject;
  } catch {
    return undefined;
  }
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const listOf = (name: string, paged = false): JsonSchema => ({
  type: 'object',
  required: ['items'],
  properties: {
    items: { type: 'array', items: ref(name) },
    ...(paged ? { next: { type: 'string', description: 'Cursor of the next page; absent on the last.' } } : {}),
  },
});
const id: JsonSchema = { type: 'string', minLength: 1, maxLength: 128 };
const epochMs: JsonSchema = { type: 'integer', description: 'Epoch milliseconds.' };
const role: JsonSchema = { type: 'string', enum: ['admin', 'team_admin', 'staff'] };
const runStatus: JsonSchema = { type: 'string', enum: ['running', 'waiting', 'done', 'failed', 'cancelled'] };
const runError: JsonSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, nodeId: { type: 'string' } },
};

// The flow document is owned by schemas/flow.schema.json; the fallback only keeps the server up
// (the engine's validate() still checks the document) if that file is missing from a deployment.
const flowSchema: JsonObject = loadRepoSchema('flow.schema.json') ?? {
  type: 'object',
  required: ['id', 'name', 'triggers', 'nodes', 'edges', 'variables', 'settings'],
};
// The PUT body: the flow document, optionally carrying the revision it is based on. A copy with its
// own $id (its internal `#/$defs` refs then resolve to its own copy), because the flow schema
// forbids unknown members.
const flowUpdateSchema: JsonObject = {
  ...flowSchema,
  ...(typeof flowSchema.$id === 'string' ? { $id: flowSchema.$id.replace(/flow\.schema\.json$/, 'flow-update.schema.json') } : {}),
  title: 'Flow draft update',
  description: 'A flow document; may carry `revision` (the revision the edit is based on) instead of the If-Match header.',
  properties: {
    ...(flowSchema.properties as JsonObject | undefined),
    revision: { type: 'integer', minimum: 1, description: 'The revision the edit is based on.' },
  },
};
// Owned by schemas/scenario.schema.json; the fallback names only what the route relies on.
const scenarioSchema: JsonObject = loadRepoSchema('scenario.schema.json') ?? {
  type: 'object',
  description: 'A scripted conversation: contact, trigger, steps (send, advance, expect, cancel), node mocks and expectations. See the engine\'s Scenario type.',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    contact: { type: 'object' },
    trigger: { type: 'object' },
    vars: { type: 'object' },
    startAt: { type: 'string', format: 'date-time' },
    runId: { type: 'string' },
    channel: { type: 'string' },
    steps: { type: 'array', items: { type: 'object', minProperties: 1, maxProperties: 1 } },
    mocks: { type: 'object' },
    expect: { type: 'object' },
  },
};
const manifestSchema: JsonObject = loadRepoSchema('node-manifest.schema.json') ?? { type: 'object' };

/** Every named schema of the API. */
export const API_SCHEMAS: Record<string, JsonSchema> = {
  FlowDefinition: flowSchema,
  NodeManifest: manifestSchema,

  FieldError: {
    type: 'object',
    required: ['field', 'message'],
    properties: {
      field: { type: 'string', description: 'JSON pointer into the body, or `query.<name>` / `header.<name>`.' },
      message: { type: 'string' },
    },
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details, served as application/problem+json.',
    required: ['type', 'title', 'status', 'detail', 'instance'],
    properties: {
      type: { type: 'string', format: 'uri' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
      requestId: { type: 'string' },
      errors: { type: 'array', items: ref('FieldError') },
      diagnostics: { type: 'array', items: ref('Diagnostic') },
    },
  },
  Diagnostic: {
    type: 'object',
    description: 'A finding of the engine validator about a flow.',
    required: ['severity', 'code', 'message', 'path'],
    properties: {
      severity: { type: 'string', enum: ['error', 'warning'] },
      code: { type: 'string', description: 'Stable code; see the engine\'s ERROR_CODES for its help text.' },
      message: { type: 'string' },
      path: { type: 'string', description: 'JSON pointer into the flow document.' },
      nodeId: { type: 'string' },
      edgeId: { type: 'string' },
    },
  },

  FlowSummary: {
    type: 'object',
    required: ['id', 'name', 'revision', 'latestVersion', 'createdAt', 'updatedAt'],
    properties: {
      id,
      name: { type: 'string' },
      revision: { type: 'integer' },
      activeVersion: { type: 'integer' },
      latestVersion: { type: 'integer' },
      createdAt: epochMs,
      updatedAt: epochMs,
    },
  },
  Flow: {
    type: 'object',
    required: ['id', 'name', 'draft', 'revision', 'latestVersion', 'createdAt', 'updatedAt'],
    properties: {
      id,
      name: { type: 'string' },
      draft: ref('FlowDefinition'),
      revision: { type: 'integer', description: 'Send it back in If-Match (or body `revision`) to update the draft.' },
      activeVersion: { type: 'integer' },
      latestVersion: { type: 'integer' },
      createdAt: epochMs,
      updatedAt: epochMs,
    },
  },
  FlowList: listOf('FlowSummary'),
  FlowWithDiagnostics: {
    type: 'object',
    required: ['flow', 'diagnostics'],
    properties: { flow: ref('Flow'), diagnostics: { type: 'array', items: ref('Diagnostic') } },
  },
  FlowUpdate: flowUpdateSchema,
  AnyJson: { description: 'Any JSON value.' },
  ValidationReport: {
    type: 'object',
    required: ['valid', 'diagnostics'],
    properties: {
      valid: { type: 'boolean', description: 'False when any diagnostic is an error.' },
      diagnostics: { type: 'array', items: ref('Diagnostic') },
    },
  },
  FlowVersion: {
    type: 'object',
    required: ['flowId', 'version', 'definition', 'publishedAt', 'publishedBy'],
    properties: {
      flowId: id,
      version: { type: 'integer' },
      definition: ref('FlowDefinition'),
      publishedAt: epochMs,
      publishedBy: { type: 'string' },
      active: { type: 'boolean' },
    },
  },
  FlowVersionSummary: {
    type: 'object',
    required: ['version', 'publishedAt', 'publishedBy', 'active'],
    properties: {
      version: { type: 'integer' },
      publishedAt: epochMs,
      publishedBy: { type: 'string' },
      active: { type: 'boolean' },
    },
  },
  FlowVersionList: listOf('FlowVersionSummary'),
  Published: {
    type: 'object',
    required: ['version', 'diagnostics'],
    properties: { version: ref('FlowVersion'), diagnostics: { type: 'array', items: ref('Diagnostic') } },
  },
  RollbackRequest: {
    type: 'object',
    required: ['version'],
    additionalProperties: false,
    properties: { version: { type: 'integer', minimum: 1 } },
  },
  TestScenario: scenarioSchema,
  TestReport: {
    type: 'object',
    required: ['name', 'passed', 'failures', 'path', 'trace', 'sent', 'vars', 'contact', 'status', 'steps'],
    properties: {
      name: { type: 'string' },
      passed: { type: 'boolean' },
      failures: { type: 'array', items: { type: 'string' }, description: 'Why the scenario failed; empty when it passed.' },
      path: { type: 'array', items: { type: 'string' }, description: 'Node ids the run passed through, in order.' },
      trace: { type: 'array', items: ref('PathStep') },
      sent: { type: 'array', items: { type: 'object' } },
      vars: { type: 'object' },
      contact: { type: 'object' },
      status: { type: 'string', enum: ['running', 'waiting', 'done', 'failed', 'not_started'] },
      outcome: { type: 'string', enum: ['completed', 'cancelled', 'failed'] },
      error: runError,
      waiting: { type: 'object' },
      steps: { type: 'array', items: { type: 'object' } },
    },
  },
  StartRunRequest: {
    type: 'object',
    required: ['contactId'],
    additionalProperties: false,
    properties: {
      contactId: id,
      vars: { type: 'object', description: 'Initial values of flow variables.' },
      idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
  Accepted: {
    type: 'object',
    required: ['accepted', 'journalId'],
    properties: {
      accepted: { type: 'boolean', description: 'False when this idempotency/dedupe key was seen before.' },
      journalId: { type: 'string' },
    },
  },

  PathStep: {
    type: 'object',
    required: ['nodeId', 'at'],
    properties: { nodeId: { type: 'string' }, output: { type: 'string' }, at: epochMs },
  },
  Run: {
    type: 'object',
    required: ['id', 'flowId', 'flowVersion', 'contactId', 'triggerId', 'status', 'stepCount', 'createdAt', 'updatedAt'],
    properties: {
      id,
      flowId: id,
      flowVersion: { type: 'integer' },
      contactId: id,
      triggerId: { type: 'string' },
      channel: { type: 'string' },
      status: runStatus,
      waiting: {
        type: 'object',
        required: ['nodeId', 'for'],
        properties: { nodeId: { type: 'string' }, for: { type: 'string', enum: ['reply', 'timer', 'effect'] } },
      },
      stepCount: { type: 'integer' },
      error: runError,
      failedNodeId: { type: 'string' },
      createdAt: epochMs,
      updatedAt: epochMs,
      endedAt: epochMs,
    },
  },
  RunList: listOf('Run', true),
  StepLogEntry: {
    type: 'object',
    required: ['stepNo', 'at', 'event', 'path', 'effects', 'status'],
    properties: {
      stepNo: { type: 'integer' },
      at: epochMs,
      event: { type: 'string' },
      path: { type: 'array', items: ref('PathStep') },
      effects: { type: 'array', items: { type: 'string' } },
      status: runStatus,
      error: runError,
    },
  },
  RunDetail: {
    type: 'object',
    required: ['run', 'steps', 'path'],
    properties: {
      run: ref('Run'),
      steps: { type: 'array', items: ref('StepLogEntry'), description: 'The first steps of the run, in order (see `stepsNext`).' },
      path: { type: 'array', items: ref('PathStep'), description: 'Every node the run passed through in those steps, in order.' },
      stepsNext: { type: 'integer', description: 'Present when the run has more steps: `after` for GET /api/runs/{id}/steps.' },
    },
  },
  StepPage: {
    type: 'object',
    required: ['items', 'path'],
    properties: {
      items: { type: 'array', items: ref('StepLogEntry') },
      path: { type: 'array', items: ref('PathStep'), description: 'Every node the run passed through in these steps, in order.' },
      next: { type: 'integer', description: 'Present when there are more steps: `after` for the next page.' },
    },
  },

  Catalogue: listOf('NodeManifest'),

  ChannelIdentity: {
    type: 'object',
    required: ['channel', 'externalId'],
    additionalProperties: false,
    properties: { channel: { type: 'string', minLength: 1, maxLength: 64 }, externalId: { type: 'string', minLength: 1, maxLength: 256 } },
  },
  Contact: {
    type: 'object',
    required: ['id', 'fields', 'identities', 'createdAt', 'updatedAt'],
    properties: {
      id,
      fields: { type: 'object' },
      identities: { type: 'array', items: ref('ChannelIdentity') },
      createdAt: epochMs,
      updatedAt: epochMs,
    },
  },
  ContactList: listOf('Contact', true),
  CreateContactRequest: {
    type: 'object',
    required: ['fields'],
    additionalProperties: false,
    properties: {
      fields: { type: 'object', description: 'Default and custom attributes: name, phone, email, ...' },
      identities: { type: 'array', items: ref('ChannelIdentity'), maxItems: 20 },
    },
  },
  UpdateContactRequest: {
    type: 'object',
    required: ['fields'],
    additionalProperties: false,
    properties: { fields: { type: 'object', minProperties: 1, description: 'Merged into the contact\'s fields.' } },
  },

  ApiKey: {
    type: 'object',
    required: ['id', 'name', 'role', 'prefix', 'createdAt'],
    properties: { id, name: { type: 'string' }, role, prefix: { type: 'string' }, createdAt: epochMs, revokedAt: epochMs },
  },
  ApiKeyList: listOf('ApiKey'),
  CreateApiKeyRequest: {
    type: 'object',
    required: ['name', 'role'],
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, role },
  },
  ApiKeyCreated: {
    type: 'object',
    required: ['apiKey', 'secret'],
    properties: { apiKey: ref('ApiKey'), secret: { type: 'string', description: 'Shown once; only its hash is stored.' } },
  },
  CreateEmbedTokenRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      role: { ...role, default: 'staff' },
      ttlSeconds: { type: 'integer', minimum: 60, description: 'Lifetime; at most the server\'s configured maximum.' },
    },
  },
  EmbedToken: {
    type: 'object',
    required: ['token', 'workspaceId', 'role', 'expiresAt'],
    properties: { token: { type: 'string' }, workspaceId: id, role, expiresAt: epochMs },
  },

  SimulatorMessageRequest: {
    type: 'object',
    required: ['contact'],
    additionalProperties: false,
    anyOf: [{ required: ['text'] }, { required: ['replyTo'] }],
    properties: {
      contact: { type: 'string', minLength: 1, maxLength: 256, description: 'The contact\'s simulator external id.' },
      text: { type: 'string', maxLength: 4096 },
      replyTo: { type: 'string', minLength: 1, maxLength: 256, description: 'Id of the button or list row pressed.' },
      messageId: { type: 'string', minLength: 1, maxLength: 256, description: 'Dedupe key; random when absent.' },
    },
  },
  SimulatorOutbound: {
    type: 'object',
    required: ['seq', 'runId', 'nodeId', 'message', 'at'],
    properties: { seq: { type: 'integer' }, runId: { type: 'string' }, nodeId: { type: 'string' }, message: { type: 'object' }, at: epochMs },
  },
  SimulatorTranscript: {
    type: 'object',
    required: ['items', 'after'],
    properties: {
      items: { type: 'array', items: ref('SimulatorOutbound') },
      after: { type: 'integer', description: 'Pass as `after` to get only newer messages.' },
    },
  },

  SimulatorExchange: {
    type: 'object',
    required: ['accepted', 'journalId', 'items', 'after'],
    properties: {
      accepted: { type: 'boolean', description: 'False when the messageId was seen before.' },
      journalId: { type: 'string' },
      items: { type: 'array', items: ref('SimulatorOutbound'), description: 'Replies after `after`; empty when none came within the wait.' },
      after: { type: 'integer', description: 'Pass as `after` to get only newer messages.' },
    },
  },

  WebhookBody: { type: 'object', description: 'Any JSON object; becomes `trigger.body` in the run.' },
  WorkspaceSettings: {
    type: 'object',
    required: ['interruptKeywords', 'allowPrivateNetwork', 'timezone'],
    properties: {
      interruptKeywords: {
        type: 'array',
        items: { type: 'string' },
        description: 'Words that end or redirect a waiting run, in flows that honour them (matched ignoring case and width).',
      },
      allowPrivateNetwork: { type: 'boolean', description: 'Lets HTTP-request nodes call private, loopback and link-local addresses.' },
      timezone: { type: 'string', description: 'IANA time zone of the workspace.' },
    },
  },
  Workspace: {
    type: 'object',
    required: ['workspace'],
    properties: {
      workspace: {
        type: 'object',
        required: ['id', 'name', 'createdAt', 'settings'],
        properties: { id: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'integer' }, settings: ref('WorkspaceSettings') },
      },
    },
  },
  UpdateWorkspaceSettingsRequest: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    description: 'The settings to change; the others keep their values.',
    properties: {
      interruptKeywords: {
        type: 'array',
        maxItems: 50,
        items: { type: 'string', minLength: 1, maxLength: 64, pattern: '\\S' },
      },
      allowPrivateNetwork: { type: 'boolean' },
      timezone: { type: 'string', minLength: 1, maxLength: 64, description: 'An IANA time zone, such as Europe/Berlin.' },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['ok', 'unavailable', 'shutting_down'] }, store: { type: 'string' } },
  },
};
