import type { WorkspaceShares } from './storage-port.js';

/**
 * How both store adapters share the outbox between workspaces (see `outbox.claim`): each reads,
 * per workspace with due effects, that workspace's longest due, and these helpers say which to
 * lease.
 * @internal
 */

/** A due effect a claim may lease: `rank` is its place (from 0) among its workspace's due effects of its type. @internal */
export interface ClaimCandidate<Id> {
  id: Id;
  workspaceId: string;
  availableAt: number;
  rank: number;
}

/** Effects `workspaceId` may still be given. @internal */
export function roomOf(shares: WorkspaceShares | undefined, workspaceId: string): number {
  return shares ? shares.max - (shares.held.get(workspaceId) ?? 0) : Number.POSITIVE_INFINITY;
}

/** The workspaces that may be given no more effects: a claim need not look at theirs. @internal */
export function fullWorkspaces(shares: WorkspaceShares | undefined): string[] {
  return shares ? [...shares.held.keys()].filter((workspaceId) => roomOf(shares, workspaceId) <= 0) : [];
}

/**
 * The candidates to lease, at most `limit`: by turns (a workspace's effects already held count as
 * turns it has had), the longest due first within a turn, and never more for one workspace than
 * its room.
 * @internal
 */
export function pickByTurns<Id>(candidates: ReadonlyArray<ClaimCandidate<Id>>, limit: number, shares: WorkspaceShares | undefined): Id[] {
  const held = (workspaceId: string) => shares?.held.get(workspaceId) ?? 0;
  const turns = candidates
    .map((candidate) => ({ candidate, turn: held(candidate.workspaceId) + candidate.rank }))
    .sort((a, b) => a.turn - b.turn || a.candidate.availableAt - b.candidate.availableAt);
  const given = new Map<string, number>();
  const picked: Id[] = [];
  for (const { candidate } of turns) {
    if (picked.length >= limit) break;
    const already = given.get(candidate.workspaceId) ?? 0;
    // A lane of several types reads each type's candidates apart: together they may exceed the room.
    if (already >= roomOf(shares, candidate.workspaceId)) continue;
    given.set(candidate.workspaceId, already + 1);
    picked.push(candidate.id);
  }
  return picked;
}
