import { checkScenario, simulate, validate, type FlowDefinition, type JsonObject, type Scenario } from '@convoflow/engine';
import { HttpProblem, type FieldError } from '../http/problem.js';
import { defineRoute, headerOf, type ParameterSpec, type RouteSpec } from '../http/route.js';
import { isStorageError } from '../storage/errors.js';
import type { FlowRecord } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';
import { flowSummaryView, flowView, parseIfMatch, parseVersion, revisionTag, versionSummaryView, versionView } from './views.js';

type Diagnostic = ReturnType<typeof validate>[number];

const tag = 'flows';
const ifMatch: Record<string, ParameterSpec> = {
  'If-Match': { schema: { type: 'string' }, description: 'The revision the update is based on (or send `revision` in the body).' },
};
const idempotencyHeader: Record<string, ParameterSpec> = {
  'Idempotency-Key': { schema: { type: 'string', maxLength: 200 }, description: 'Repeating a key starts nothing new.' },
};

const hasErrors = (diagnostics: Diagnostic[]): boolean => diagnostics.some((d) => d.severity === 'error');
const diagnosticErrors = (diagnostics: Diagnostic[]): FieldError[] =>
  diagnostics.filter((d) => d.severity === 'error').map((d) => ({ field: d.path || '/', message: d.message }));

async function requireFlow(ctx: ApiContext, workspaceId: string, id: string | undefined): Promise<FlowRecord> {
  const flow = id === undefined ? undefined : await ctx.store.flows.get(workspaceId, id);
  if (!flow) throw HttpProblem.notFound('flow', String(id));
  return flow;
}

/** Routes of flows: drafts, validation, publishing, versions, rollback, test runs and API starts. */
export function flowRoutes(ctx: ApiContext): RouteSpec[] {
  const { store, catalogue } = ctx;
  return [
    defineRoute<FlowDefinition>({
      method: 'post',
      path: '/api/flows',
      operationId: 'createFlow',
      summary: 'Create a flow from a draft document',
      description: 'The draft is checked against the flow schema (422 on structural errors); the engine validator\'s findings come back as diagnostics without blocking the save.',
      tag,
      permission: 'flows:write',
      body: { schema: 'FlowDefinition', document: true },
      responses: {
        201: { description: 'Created', schema: 'FlowWithDiagnostics' },
        409: { description: 'The id is taken, by a flow or by a deleted one (names /id)', schema: 'Problem' },
      },
      handle: async ({ auth, body }) => {
        const diagnostics = validate(body, catalogue);
        const flow = await store.flows.create({ workspaceId: auth.workspaceId, draft: body, at: ctx.now() }).catch(async (err: unknown) => {
          if (!isStorageError(err, 'CONFLICT')) throw err;
          const live = await store.flows.get(auth.workspaceId, body.id);
          throw new HttpProblem(
            409,
            'conflict',
            live
              ? `A flow with id "${body.id}" already exists in this workspace; PUT /api/flows/${body.id} to change its draft.`
              : `The id "${body.id}" belonged to a flow that was deleted; its versions are kept for the runs that used them, so the id stays taken. Choose another id.`,
            { errors: [{ field: '/id', message: live ? 'is taken by another flow' : 'is taken by a deleted flow' }] },
          );
        });
        return {
          status: 201,
          body: { flow: flowView(flow), diagnostics },
          headers: { Location: `/api/flows/${encodeURIComponent(flow.id)}`, ETag: revisionTag(flow.revision) },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/flows',
      operationId: 'listFlows',
      summary: 'List the flows of the workspace',
      tag,
      permission: 'flows:read',
      responses: { 200: { description: 'Flows, without their documents', schema: 'FlowList' } },
      handle: async ({ auth }) => ({ status: 200, body: { items: (await store.flows.list(auth.workspaceId)).map(flowSummaryView) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/flows/:id',
      operationId: 'getFlow',
      summary: 'Get a flow with its draft',
      tag,
      permission: 'flows:read',
      responses: { 200: { description: 'The flow; ETag is its revision', schema: 'Flow' } },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        return { status: 200, body: flowView(flow), headers: { ETag: revisionTag(flow.revision) } };
      },
    }),
    defineRoute<FlowDefinition & { revision?: number }>({
      method: 'put',
      path: '/api/flows/:id',
      operationId: 'updateFlowDraft',
      summary: 'Replace the draft (optimistic concurrency)',
      description: 'Name the revision the edit is based on with If-Match or a body `revision`; a stale revision is a 409.',
      tag,
      permission: 'flows:write',
      headers: ifMatch,
      body: { schema: 'FlowUpdate', document: true },
      responses: {
        200: { description: 'Saved', schema: 'FlowWithDiagnostics' },
        409: { description: 'The draft changed since that revision', schema: 'Problem' },
        428: { description: 'No revision given', schema: 'Problem' },
      },
      handle: async ({ auth, req, body, params }) => {
        const { revision: bodyRevision, ...draft } = body;
        const headerRevision = parseIfMatch(headerOf(req, 'if-match'));
        if (headerRevision !== undefined && bodyRevision !== undefined && headerRevision !== bodyRevision) {
          throw HttpProblem.validation([
            { field: 'header.If-Match', message: `names revision ${headerRevision}, the body ${bodyRevision}: send one, or the same in both` },
            { field: '/revision', message: `is ${bodyRevision}, If-Match names ${headerRevision}` },
          ]);
        }
        const expected = headerRevision ?? bodyRevision;
        if (expected === undefined) {
          throw new HttpProblem(428, 'precondition-required', 'Send the revision the edit is based on: If-Match header or body `revision`.', {
            errors: [{ field: 'header.If-Match', message: 'is required (or body revision)' }],
          });
        }
        const current = await requireFlow(ctx, auth.workspaceId, params.id);
        if (draft.id !== current.id) throw HttpProblem.validation([{ field: '/id', message: `must be ${JSON.stringify(current.id)}, the id of this flow` }]);
        const diagnostics = validate(draft, catalogue);
        const updated = await store.flows.updateDraft(auth.workspaceId, current.id, draft, expected, ctx.now());
        if (!updated) {
          const latest = await requireFlow(ctx, auth.workspaceId, current.id);
          throw new HttpProblem(409, 'revision-conflict', `The draft is at revision ${latest.revision}, not ${expected}; reload and apply your change again.`, {
            extensions: { currentRevision: latest.revision },
            headers: { ETag: revisionTag(latest.revision) },
          });
        }
        return { status: 200, body: { flow: flowView(updated), diagnostics }, headers: { ETag: revisionTag(updated.revision) } };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/flows/:id',
      operationId: 'deleteFlow',
      summary: 'Delete a flow (runs in progress finish on their version)',
      tag,
      permission: 'flows:delete',
      responses: { 204: { description: 'Deleted' } },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        if (!(await store.flows.delete(auth.workspaceId, flow.id))) throw HttpProblem.notFound('flow', flow.id);
        if (flow.activeVersion !== undefined) await ctx.runtime.flowChanged(auth.workspaceId, flow.id, flow.activeVersion);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/flows/:id/validate',
      operationId: 'validateFlowDraft',
      summary: 'Validate the stored draft',
      tag,
      permission: 'flows:read',
      responses: { 200: { description: 'Diagnostics of the draft', schema: 'ValidationReport' } },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const diagnostics = validate(flow.draft, catalogue);
        return { status: 200, body: { valid: !hasErrors(diagnostics), diagnostics } };
      },
    }),
    defineRoute<unknown>({
      method: 'post',
      path: '/api/validate',
      operationId: 'validateFlowDocument',
      summary: 'Validate a flow document without saving it',
      description: 'Any JSON is accepted: structural problems come back as diagnostics too, so the designer can show them in place.',
      tag,
      permission: 'flows:read',
      body: { schema: 'AnyJson', document: true },
      responses: { 200: { description: 'Diagnostics of the document', schema: 'ValidationReport' } },
      handle: async ({ body }) => {
        const diagnostics = validate(body, catalogue);
        return { status: 200, body: { valid: !hasErrors(diagnostics), diagnostics } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/flows/:id/publish',
      operationId: 'publishFlow',
      summary: 'Publish the draft as the next immutable version',
      description: 'Refused with 422 and the diagnostics when the validator reports an error. New runs start on the new version; running ones finish on theirs.',
      tag,
      permission: 'flows:publish',
      responses: {
        201: { description: 'Published', schema: 'Published' },
        422: { description: 'The draft has errors (see `diagnostics`)', schema: 'Problem' },
      },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const diagnostics = validate(flow.draft, catalogue);
        if (hasErrors(diagnostics)) {
          throw new HttpProblem(422, 'flow-invalid', 'The draft has errors; fix them before publishing.', {
            errors: diagnosticErrors(diagnostics),
            extensions: { diagnostics: diagnostics as unknown as JsonObject[] },
          });
        }
        const version = await store.flows.publish(auth.workspaceId, flow.id, auth.subject, ctx.now());
        await ctx.runtime.flowChanged(auth.workspaceId, flow.id, flow.activeVersion);
        return {
          status: 201,
          body: { version: versionView(version, version.version), diagnostics },
          headers: { Location: `/api/flows/${encodeURIComponent(flow.id)}/versions/${version.version}` },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/flows/:id/versions',
      operationId: 'listFlowVersions',
      summary: 'List the published versions of a flow',
      tag,
      permission: 'flows:read',
      responses: { 200: { description: 'Versions, oldest first', schema: 'FlowVersionList' } },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const versions = await store.flows.listVersions(auth.workspaceId, flow.id);
        return { status: 200, body: { items: versions.map((v) => versionSummaryView(v, flow.activeVersion)) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/flows/:id/versions/:version',
      operationId: 'getFlowVersion',
      summary: 'Get one published version',
      tag,
      permission: 'flows:read',
      pathParams: { version: { schema: { type: 'integer', minimum: 1 }, description: 'Version number' } },
      responses: { 200: { description: 'The version', schema: 'FlowVersion' } },
      handle: async ({ auth, params }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const number = parseVersion(params.version, flow.id);
        const version = await store.flows.getVersion(auth.workspaceId, flow.id, number);
        if (!version) throw HttpProblem.notFound(`version of flow ${flow.id}`, String(number));
        return { status: 200, body: versionView(version, flow.activeVersion) };
      },
    }),
    defineRoute<{ version: number }>({
      method: 'post',
      path: '/api/flows/:id/rollback',
      operationId: 'rollbackFlow',
      summary: 'Make an earlier version the active one',
      tag,
      permission: 'flows:rollback',
      body: { schema: 'RollbackRequest' },
      responses: { 200: { description: 'The flow, with its new active version', schema: 'Flow' } },
      handle: async ({ auth, params, body }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const version = await store.flows.getVersion(auth.workspaceId, flow.id, body.version);
        if (!version) throw HttpProblem.validation([{ field: '/version', message: `flow ${flow.id} has no version ${body.version}` }]);
        const updated = await store.flows.activate(auth.workspaceId, flow.id, body.version, ctx.now());
        if (!updated) throw HttpProblem.notFound('flow', flow.id);
        await ctx.runtime.flowChanged(auth.workspaceId, flow.id, flow.activeVersion);
        return { status: 200, body: flowView(updated) };
      },
    }),
    defineRoute<JsonObject>({
      method: 'post',
      path: '/api/flows/:id/test-run',
      operationId: 'testRunFlow',
      summary: 'Run the draft against a test scenario in the engine simulator',
      description: 'Nothing is sent and nothing is stored: the simulator plays the scenario\'s messages, advances a virtual clock and mocks node outcomes. A failed expectation is a 200 with passed=false; a draft with errors or a malformed scenario is a 422.',
      tag,
      permission: 'flows:read',
      body: { schema: 'TestScenario' },
      responses: {
        200: { description: 'The report (passed is false when an expectation failed)', schema: 'TestReport' },
        422: { description: 'The draft has errors (see `diagnostics`) or the scenario is malformed', schema: 'Problem' },
      },
      handle: async ({ auth, params, body }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        const problems = checkScenario(body);
        if (problems.length > 0) throw HttpProblem.validation(problems.map(scenarioFieldError), 'The scenario is malformed.');
        const diagnostics = validate(flow.draft, catalogue);
        if (hasErrors(diagnostics)) {
          throw new HttpProblem(422, 'flow-invalid', 'The draft has errors; fix them before testing it.', {
            errors: diagnosticErrors(diagnostics),
            extensions: { diagnostics: diagnostics as unknown as JsonObject[] },
          });
        }
        return { status: 200, body: simulate(flow.draft, catalogue, body as unknown as Scenario) };
      },
    }),
    defineRoute<{ contactId: string; vars?: JsonObject; idempotencyKey?: string }>({
      method: 'post',
      path: '/api/flows/:id/runs',
      operationId: 'startRun',
      summary: 'Start a run of the active version for a contact',
      tag: 'runs',
      permission: 'runs:start',
      headers: idempotencyHeader,
      body: { schema: 'StartRunRequest' },
      responses: {
        202: { description: 'Journaled; the run starts shortly', schema: 'Accepted' },
        409: { description: 'The flow has no published version', schema: 'Problem' },
      },
      handle: async ({ auth, params, body, req }) => {
        const flow = await requireFlow(ctx, auth.workspaceId, params.id);
        if (flow.activeVersion === undefined) throw new HttpProblem(409, 'not-published', `Flow ${flow.id} has no published version; publish it first.`);
        const active = await store.flows.getVersion(auth.workspaceId, flow.id, flow.activeVersion);
        if (!active?.definition.triggers.some((t) => t.type === 'api')) {
          throw new HttpProblem(409, 'no-api-trigger', `The published version of flow ${flow.id} has no "started by API" trigger, so it cannot be started through the API.`);
        }
        const contact = await store.contacts.get(auth.workspaceId, body.contactId);
        if (!contact) throw HttpProblem.validation([{ field: '/contactId', message: `no contact ${body.contactId} in this workspace` }]);
        const idempotencyKey = body.idempotencyKey ?? headerOf(req, 'idempotency-key');
        const accepted = await ctx.runtime.startByApi(auth.workspaceId, flow.id, {
          contactId: contact.id,
          ...(body.vars ? { vars: body.vars } : {}),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        });
        return { status: 202, body: accepted };
      },
    }),
  ];
}

/**
 * Turns a scenario problem (`steps[2].advance must be ...`, `scenario.name must be ...`) into a
 * field error with a JSON pointer (`/steps/2/advance`). Pure.
 */
function scenarioFieldError(problem: string): FieldError {
  const m = /^(?:scenario\.)?([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+|\[\d+\])*)\s/.exec(problem);
  const path = m?.[1]?.replace(/\[(\d+)\]/g, '.$1').split('.') ?? [];
  return { field: path.length > 0 && !problem.startsWith('the scenario') ? `/${path.join('/')}` : '/', message: problem };
}
