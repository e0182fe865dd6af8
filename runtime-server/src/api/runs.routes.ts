import type { PathStep } from '@convoflow/engine';
import { HttpProblem } from '../http/problem.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { RunFilter, RunRecord, StoredRunStatus } from '../storage/storage-port.js';
import type { ApiContext } from './context.js';
import { runView, stepView } from './views.js';

const tag = 'runs';
const ENDED: readonly StoredRunStatus[] = ['done', 'failed', 'cancelled'];

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
      summary: 'Get a run with its step log and the path it took',
      tag,
      permission: 'runs:read',
      responses: { 200: { description: 'The run', schema: 'RunDetail' } },
      handle: async ({ auth, params }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        const steps = await store.runs.stepLog(run.id);
        const path: PathStep[] = steps.flatMap((s) => s.path);
        return { status: 200, body: { run: runView(run), steps: steps.map(stepView), path } };
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
        409: { description: 'The run has not failed', schema: 'Problem' },
      },
      handle: async ({ auth, params }) => {
        const run = await requireRun(ctx, auth.workspaceId, params.id);
        if (run.status !== 'failed') throw new HttpProblem(409, 'run-not-failed', `Only failed runs can be retried; run ${run.id} is ${run.status}.`);
        const after = await runtime.retryRun(auth.workspaceId, run.id);
        return { status: 200, body: runView(after) };
      },
    }),
  ];
}

