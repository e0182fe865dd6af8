import type { PathStep } from '@convoflow/engine';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { RunFilter, RunRecord, StoredRunStatus } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';
import { runView, stepView } from './views.js';
import { TOO_MANY_STEPS } from '../runtime/runtime-port.js';

const tag = 'runs';
const ENDED: readonly StoredRunStatus[] = ['done', 'failed', 'cancelled'];
const STEP_PAGE = 200;
const MAX_STEP_PAGE = 1_000;

/** Up to `limit` steps after `after`, the path taken in them, and the cursor of the next page if any. */
async function stepPage(
  ctx: ApiContext,
  runId: string,
  after: number | undefined,
  limit: number,
): Promise<{ items: ReturnType<typeof stepView>[]; path: PathStep[]; next?: number }> {
  const steps = await ctx.store.runs.stepLog(runId, { ...(after === undefined ? {} : { afterStepNo: after }), limit: limit + 1 });
  const shown = steps.slice(0, limit);
  return {
    items: shown.map(stepView),
    path: shown.flatMap((s) => s.path),
    ...(steps.length > limit ? { next: shown.at(-1)!.stepNo } : {}),
  };
}

async function requireRun(ctx: ApiContext, workspaceId: string, id: string | undefined): Promise<RunRecord> {
  const run = id === undefined ? undefined : await ctx.store.runs.get(workspaceId, id);
  if (!run) throw HttpProblem.notFound('run', String(id));
  return run;
}

/** Routes of runs: list and inspect (with step log and path), cancel, retry a failed run. */
export function runRoutes(ctx: ApiContext): RouteSpec[] {
  const { store, runtime } = ctx;
  return [
    defineRoute({
      method: 'get',
      path: '/api/runs',
      operationId: 'listRuns',
      summary: 'List runs, newest first',
      tag,
      permission: 'runs:read',
      query: {
        flowId: { schema: { type: 'string', minLength: 1 }, description: 'Only runs of this flow' },
        contactId: { schema: { type: 'string', minLength: 1 }, description: 'Only runs of this contact' },
        status: { schema: { type: 'string', enum: ['running', 'waiting', 'done', 'failed', 'cancelled'] }, description: 'Only runs in this status' },
        limit: { schema: { type: 'integer', minimum: 1, maximum: 500 }, description: 'Page size (default 50)' },
        cursor: { schema: { type: 'string', minLength: 1 }, description: 'The `next` of the previous page' },
      },
      responses: { 200: { description: 'A page of runs', schema: 'RunList' } },
      handle: async ({ auth, query }) => {
        const page = await store.runs.list(auth.workspaceId, query as RunFilter);
        return { status: 200, body: { items: page.items.map(runView), ...(page.next ? { next: page.next } : {}) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/runs/:id',
      operationId: 'getRun',
      summary: 'Get a run with the first page of its step log and the path it took there',
      description: `A run that loops (a polling delay, a menu) can log thousands of steps: the detail carries the first \`steps\` of them (default ${STEP_PAGE}), and \`stepsNext\` when there are more, for GET /api/runs/{id}/steps.`,
      tag,
      permission: 'runs:read',
      query: { steps: { schema: { type: 'integer', minimum: 1, maximum: MAX_STEP_PAGE }, description: `How many steps to include (default ${STEP_PAGE})` } },
      responses: { 200: { description: 'The run', schema: 'RunDetail' } },
      handle: async ({ auth, params, query }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        const page = await stepPage(ctx, run.id, undefined, (query.steps as number | undefined) ?? STEP_PAGE);
        return { status: 200, body: { run: runView(run), steps: page.items, path: page.path, ...(page.next === undefined ? {} : { stepsNext: page.next }) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/runs/:id/steps',
      operationId: 'listRunSteps',
      summary: 'A page of a run\'s step log, with the path it took in those steps',
      tag,
      permission: 'runs:read',
      query: {
        after: { schema: { type: 'integer', minimum: -1 }, description: 'The `next` (or `stepsNext`) of the previous page; steps after this step number' },
        limit: { schema: { type: 'integer', minimum: 1, maximum: MAX_STEP_PAGE }, description: `Page size (default ${STEP_PAGE})` },
      },
      responses: { 200: { description: 'A page of steps', schema: 'StepPage' } },
      handle: async ({ auth, params, query }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        const page = await stepPage(ctx, run.id, query.after as number | undefined, (query.limit as number | undefined) ?? STEP_PAGE);
        return { status: 200, body: { items: page.items, path: page.path, ...(page.next === undefined ? {} : { next: page.next }) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/runs/:id/cancel',
      operationId: 'cancelRun',
      summary: 'Cancel a run that has not ended',
      tag,
      permission: 'runs:manage',
      responses: {
        200: { description: 'The run after cancelling', schema: 'Run' },
        409: { description: 'The run has already ended', schema: 'Problem' },
      },
      handle: async ({ auth, params }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        if (ENDED.includes(run.status)) throw new HttpProblem(409, 'run-ended', `Run ${run.id} has already ended (${run.status}).`);
        const after = await runtime.cancelRun(auth.workspaceId, run.id, `cancelled by ${auth.subject}`);
        return { status: 200, body: runView(after) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/runs/:id/retry',
      operationId: 'retryRun',
      summary: 'Retry a failed run from the node that failed',
      tag,
      permission: 'runs:manage',
      responses: {
        200: { description: 'The run after the retry step', schema: 'Run' },
        409: { description: 'The run has not failed, or failed for taking every step a run may', schema: 'Problem' },
      },
      handle: async ({ auth, params }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        if (run.status !== 'failed') throw new HttpProblem(409, 'run-not-failed', `Only failed runs can be retried; run ${run.id} is ${run.status}.`);
        if (run.error?.code === TOO_MANY_STEPS) {
          // Its step count stays: a retry would fail again at its first step.
          throw new HttpProblem(409, 'run-too-long', `Run ${run.id} took every step a run may (${run.error.message}); it cannot be retried. Start a new run.`);
        }
        const after = await runtime.retryRun(auth.workspaceId, run.id);
        return { status: 200, body: runView(after) };
      },
    }),
  ];
}

