import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from '../storage/storage-port.js';
import { isRole } from './roles.js';

/** Every embed token starts with this. */
export const EMBED_TOKEN_PREFIX = 'cfe_';

/** What an embed token grants: a role in one workspace until `exp` (epoch seconds). */
export interface EmbedTokenClaims {
  workspaceId: string;
  role: Role;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Issued at, epoch seconds. */
  iat: number;
  /** Who minted it (an API key id), for the audit trail. */
  sub: string;
}

/** Why a token was refused. */
export type EmbedTokenProblem = 'malformed' | 'bad_signature' | 'expired';

const sign = (secret: string | Buffer, payload: string): Buffer =>
  createHmac('sha256', secret).update(payload, 'utf8').digest();

/**
 * Signs embed-token claims: `cfe_<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`. Pure given the
 * secret (no clock read: `iat`/`exp` are in the claims).
 *
 * @example
 * const token = signEmbedToken({ workspaceId, role: 'staff', iat: now, exp: now + 900, sub: keyId }, secret);
 */
export function signEmbedToken(claims: EmbedTokenClaims, secret: string | Buffer): string {
  const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
  return `${EMBED_TOKEN_PREFIX}${payload}.${sign(secret, payload).toString('base64url')}`;
}

/**
 * Verifies an embed token's signature (constant-time) and expiry against `nowSeconds`. Pure.
 *
 * @returns the claims, or the reason the token is refused.
 */
export function verifyEmbedToken(
  token: string,
  secret: string | Buffer,
  nowSeconds: number,
): { ok: true; claims: EmbedTokenClaims } | { ok: false; problem: EmbedTokenProblem } {
  if (!token.startsWith(EMBED_TOKEN_PREFIX) || token.length > 4096) return { ok: false, problem: 'malformed' };
  const [payload, signature, ...rest] = token.slice(EMBED_TOKEN_PREFIX.length).split('.');
  if (!payload || !signature || rest.length > 0) return { ok: false, problem: 'malformed' };
  const expected = sign(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'bad_signature' };
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (!isClaims(claims)) return { ok: false, problem: 'malformed' };
  if (claims.exp <= nowSeconds) return { ok: false, problem: 'expired' };
  return { ok: true, claims };
}

/** Whether a bearer credential is an embed token rather than an API key. */
export function looksLikeEmbedToken(value: string): boolean {
  return value.startsWith(EMBED_TOKEN_PREFIX) && value.includes('.');
}

function isClaims(value: unknown): value is EmbedTokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.workspaceId === 'string' &&
    isRole(c.role) &&
    typeof c.exp === 'number' &&
    typeof c.iat === 'number' &&
    typeof c.sub === 'string'
  );
}
