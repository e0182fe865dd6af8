import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { ApiKeyRecord, Role, StoragePort } from '../storage/storage-port.js';

/** Every API key starts with this; embed tokens start with `cfe_` and are told apart by it. */
export const API_KEY_PREFIX = 'cf_';

const KEY_PATTERN = /^cf_[A-Za-z0-9_-]{43}$/;

/**
 * Mints a new API key secret: `cf_` and 32 random bytes in base64url (43 characters).
 * Reads the system random source; nothing is stored.
 *
 * @example
 * const secret = mintApiKey(); // 'cf_Vq3...'
 */
export function mintApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether a string has the shape of an API key (it says nothing about the key being valid). */
export function looksLikeApiKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/**
 * The stored form of an API key: SHA-256 of the secret, lowercase hex. Pure.
 * Keys are 256-bit random, so a plain hash is enough (no salt or slow hash needed), and a lookup
 * by hash compares no secret bytes in a data-dependent way.
 */
export function hashApiKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The first characters of a key, kept in lists so people can tell keys apart. Pure. */
export function apiKeyPrefix(secret: string): string {
  return secret.slice(0, 10);
}

/**
 * Creates an API key for a workspace: mints the secret, stores its hash, returns the record and the
 * secret (shown once, never again). The server bootstrap uses it for the first admin key.
 *
 * @example
 * const { record, secret } = await createApiKey(store, { workspaceId: ws.id, name: 'bootstrap', role: 'admin', at: Date.now() });
 */
export async function createApiKey(
  store: Pick<StoragePort, 'apiKeys'>,
  input: { workspaceId: string; name: string; role: Role; at: number },
): Promise<{ record: ApiKeyRecord; secret: string }> {
  const secret = mintApiKey();
  const record: ApiKeyRecord = {
    id: randomUUID(),
    workspaceId: input.workspaceId,
    name: input.name,
    role: input.role,
    keyHash: hashApiKey(secret),
    prefix: apiKeyPrefix(secret),
    createdAt: input.at,
  };
  await store.apiKeys.insert(record);
  return { record, secret };
}
