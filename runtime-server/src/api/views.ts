import type { ApiKeyRecord, ContactRecord, FlowRecord, FlowSummary, FlowVersionRecord, FlowVersionSummary, RunSummary, StepLogEntry, Workspace } from '../storage/storage-port.js';
import { HttpProblem } from '../http/problem.js';

/**
 * How records leave the API: without the workspace id (implied by the credential), key hashes or
 * run snapshots. Pure.
 */

export const flowSummaryView = (f: FlowSummary) => ({
  id: f.id,
  name: f.name,
  revision: f.revision,
  ...(f.activeVersion !== undefined ? { activeVersion: f.activeVersion } : {}),
  latestVersion: f.latestVersion,
  createdAt: f.createdAt,
  updatedAt: f.updatedAt,
});

export const flowView = (f: FlowRecord) => ({ ...flowSummaryView(f), draft: f.draft });

export const versionView = (v: FlowVersionRecord, activeVersion: number | undefined) => ({
  flowId: v.flowId,
  version: v.version,
  definition: v.definition,
  publishedAt: v.publishedAt,
  publishedBy: v.publishedBy,
  active: v.version === activeVersion,
});

export const versionSummaryView = (v: FlowVersionSummary, activeVersion: number | undefined) => ({
  version: v.version,
  publishedAt: v.publishedAt,
  publishedBy: v.publishedBy,
  active: v.version === activeVersion,
});

/** A run as the API shows it: never its snapshot, which a RunRecord (not a summary) carries. */
export const runView = (r: RunSummary) => {
  const { workspaceId: _ws, snapshot: _snapshot, ...rest } = r as RunSummary & { snapshot?: unknown };
  return rest;
};

export const stepView = (s: StepLogEntry) => {
  const { workspaceId: _ws, runId: _run, ...rest } = s;
  return rest;
};

export const contactView = (c: ContactRecord) => {
  const { workspaceId: _ws, ...rest } = c;
  return rest;
};

export const apiKeyView = (k: ApiKeyRecord) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  createdAt: k.createdAt,
  ...(k.revokedAt !== undefined ? { revokedAt: k.revokedAt } : {}),
});

export const workspaceView = (w: Workspace) => ({
  id: w.id,
  name: w.name,
  createdAt: w.createdAt,
  settings: { interruptKeywords: w.settings.interruptKeywords, allowPrivateNetwork: w.settings.allowPrivateNetwork, timezone: w.settings.timezone },
});

/** The ETag of a flow draft: its revision, quoted. */
export const revisionTag = (revision: number): string => `"${revision}"`;

/** Reads a revision from `If-Match` (`3`, `"3"` or `W/"3"`); undefined when absent. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (!m?.[1]) throw HttpProblem.validation([{ field: 'header.If-Match', message: 'must be the flow revision, e.g. "3"' }]);
  return Number(m[1]);
}

/** Parses a positive integer path segment (a version number); 404 when it is not one. */
export function parseVersion(value: string | undefined, flowId: string): number {
  if (value === undefined || !/^[1-9]\d{0,8}$/.test(value)) throw HttpProblem.notFound(`version of flow ${flowId}`, String(value));
  return Number(value);
}
