import { isTimezone } from '@convoflow/engine';
import { HttpProblem, type FieldError } from '../http/problem.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { WorkspaceSettings } from '../storage/storage-port.js';
import { foldText } from '../triggers/match-triggers.js';
import type { ApiContext } from './context.js';
import { workspaceView } from './views.js';

const tag = 'workspace';

/**
 * The caller's workspace and its settings: interrupt keywords, private-network access of HTTP
 * nodes, time zone. Every role reads them; only admins (with an API key) change them.
 */
export function workspaceRoutes(ctx: ApiContext): RouteSpec[] {
  const { store } = ctx;
  return [
    defineRoute({
      method: 'get',
      path: '/api/workspace',
      operationId: 'getWorkspace',
      summary: 'The caller\'s workspace and its settings',
      tag,
      permission: 'workspace:read',
      responses: { 200: { description: 'The workspace', schema: 'Workspace' } },
      handle: async ({ auth }) => {
        const workspace = await store.workspaces.get(auth.workspaceId);
        if (!workspace) throw HttpProblem.notFound('workspace', auth.workspaceId);
        return { status: 200, body: { workspace: workspaceView(workspace) } };
      },
    }),
    defineRoute<Partial<WorkspaceSettings>>({
      method: 'patch',
      path: '/api/workspace/settings',
      operationId: 'updateWorkspaceSettings',
      summary: 'Change workspace settings (the ones not named keep their values)',
      description:
        'Interrupt keywords are trimmed and must differ once case and width are ignored (they are matched that way). ' +
        'Waiting runs see the new keywords with the next message; other servers sharing the store within a second.',
      tag,
      permission: 'workspace:manage',
      body: { schema: 'UpdateWorkspaceSettingsRequest' },
      responses: { 200: { description: 'The workspace, as changed', schema: 'Workspace' } },
      handle: async ({ auth, body }) => {
        const settings = checkedSettings(body);
        const workspace = await store.workspaces.updateSettings(auth.workspaceId, settings);
        ctx.runtime.workspaceChanged(auth.workspaceId);
        return { status: 200, body: { workspace: workspaceView(workspace) } };
      },
    }),
  ];
}

/** What the schema cannot say: a time zone that exists, keywords that differ as they are matched. */
function checkedSettings(body: Partial<WorkspaceSettings>): Partial<WorkspaceSettings> {
  const errors: FieldError[] = [];
  if (body.timezone !== undefined && !isTimezone(body.timezone)) {
    errors.push({ field: '/timezone', message: `"${body.timezone}" is not an IANA time zone (such as Europe/Berlin or UTC)` });
  }
  let interruptKeywords: string[] | undefined;
  if (body.interruptKeywords !== undefined) {
    interruptKeywords = body.interruptKeywords.map((k) => k.trim());
    const seen = new Map<string, number>();
    interruptKeywords.forEach((keyword, i) => {
      const folded = foldText(keyword);
      const first = seen.get(folded);
      if (first === undefined) seen.set(folded, i);
      else errors.push({ field: `/interruptKeywords/${i}`, message: `matches the same messages as /interruptKeywords/${first} ("${interruptKeywords![first]}")` });
    });
  }
  if (errors.length > 0) throw HttpProblem.validation(errors);
  return { ...body, ...(interruptKeywords ? { interruptKeywords } : {}) };
}
