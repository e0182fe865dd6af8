import type { IncomingMessage } from 'node:http';
import type { ApiKeyRecord, Role, StoragePort } from '../storage/storage-port.js';
import type { ExpiringCache } from '../support/expiring-cache.js';
import { hashApiKey } from '../auth/api-key.js';
import { looksLikeEmbedToken, verifyEmbedToken } from '../auth/embed-token.js';
import { can, type Permission } from '../auth/roles.js';
import { HttpProblem } from './problem.js';

/** Who is calling: resolved from the bearer credential, scoping every route to one workspace. */
export interface AuthContext {
  workspaceId: string;
  role: Role;
  via: 'api_key' | 'embed_token';
  /** The API key id (for an embed token: the id of the key that minted it). */
  keyId: string;
  /** A name for audit fields such as `publishedBy`: `key:<id>` or `embed:<minting key id>`. */
  subject: string;
}

const challenge = { 'WWW-Authenticate': 'Bearer realm="convoflow"' };

/**
 * Resolves the caller of a request from `Authorization: Bearer <api key | embed token>`.
 * Throws a 401 HttpProblem when the credential is missing, malformed, unknown, revoked or expired,
 * or is an embed token whose minting key has been revoked.
 */
export async function authenticate(
  req: IncomingMessage,
  deps: { store: StoragePort; apiKeys: ExpiringCache<string, ApiKeyRecord>; embedTokenSecret: string | Buffer; now: () => number },
): Promise<AuthContext> {
  const header = req.headers.authorization;
  if (!header) throw new HttpProblem(401, 'unauthenticated', 'Send an API key or embed token as "Authorization: Bearer <key>".', { headers: challenge });
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const credential = match?.[1];
  if (!credential) throw new HttpProblem(401, 'unauthenticated', 'The Authorization header must be "Bearer <key>".', { headers: challenge });

  if (looksLikeEmbedToken(credential)) {
    const verdict = verifyEmbedToken(credential, deps.embedTokenSecret, Math.floor(deps.now() / 1000));
    if (!verdict.ok) {
      const why = verdict.problem === 'expired' ? 'The embed token has expired; mint a new one.' : 'The embed token is not valid.';
      throw new HttpProblem(401, 'unauthenticated', why, { headers: challenge });
    }
    const { claims } = verdict;
    // A token lives as long as the key that minted it: revoking a leaked key must not leave its
    // tokens (admin ones among them) working until they expire. Same cache, same 1 s as keys.
    const minter = await deps.apiKeys.get(`id\u0000${claims.workspaceId}\u0000${claims.sub}`, async () =>
      (await deps.store.apiKeys.list(claims.workspaceId)).find((k) => k.id === claims.sub),
    );
    if (!minter || minter.revokedAt !== undefined) {
      throw new HttpProblem(401, 'unauthenticated', 'The embed token was minted with an API key that has been revoked.', { headers: challenge });
    }
    return { workspaceId: claims.workspaceId, role: claims.role, via: 'embed_token', keyId: claims.sub, subject: `embed:${claims.sub}` };
  }

  // Minted keys are `cf_...`, but an operator may seed one of their own (CONVOFLOW_ADMIN_KEY), so
  // only the length is bounded before hashing.
  if (credential.length < 8 || credential.length > 512) {
    throw new HttpProblem(401, 'unauthenticated', 'The API key is not valid.', { headers: challenge });
  }
  // Lookup by hash: no stored secret is compared byte by byte, so there is no timing oracle.
  // Cached briefly (every request needs it): a revocation here clears the cache, one made by
  // another process sharing the store takes effect within the cache's lifetime (1 s).
  const record = await deps.apiKeys.get(hashApiKey(credential), (hash) => deps.store.apiKeys.findByHash(hash));
  if (!record || record.revokedAt !== undefined) {
    throw new HttpProblem(401, 'unauthenticated', 'The API key is not valid or has been revoked.', { headers: challenge });
  }
  return { workspaceId: record.workspaceId, role: record.role, via: 'api_key', keyId: record.id, subject: `key:${record.id}` };
}

/**
 * Throws a 403 HttpProblem unless the caller's role holds the permission. Embed tokens (designer
 * sessions) never manage API keys, mint further tokens or change workspace settings (one of which
 * opens private networks to HTTP nodes), whatever their role.
 */
export function authorize(auth: AuthContext, permission: Permission): void {
  const credentialAdmin = permission === 'apiKeys:manage' || permission === 'embedTokens:create' || permission === 'workspace:manage';
  if (credentialAdmin && auth.via === 'embed_token') {
    throw new HttpProblem(403, 'forbidden', 'Embed tokens cannot manage credentials or workspace settings; use an admin API key.');
  }
  if (!can(auth.role, permission)) {
    throw new HttpProblem(403, 'forbidden', `The role ${auth.role} may not do this (needs ${permission}).`);
  }
}
