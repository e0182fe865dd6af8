import { readPath, type JsonObject, type JsonValue } from '@convoflow/engine';
import type { NodeExecutionContext, NodeResult } from '../../types.js';
import { checkUrl, type AddressGuardOptions } from './address-guard.js';
import type { createPinnedDispatcher } from './pinned-dispatcher.js';
import { readCapped } from './read-body.js';

/** Params of `http_request`, as rendered. */
export interface HttpRequestParams {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Array<{ name: string; value: string }>;
  body?: string;
  timeoutMs?: number;
  responseMapping?: Array<{ path: string; variable: string }>;
}

/** Limits of `http_request`. */
export const HTTP_LIMITS = {
  defaultTimeoutMs: 10_000,
  maxTimeoutMs: 60_000,
  /** Largest response body read. */
  maxResponseBytes: 1_048_576,
  /** Largest body kept in `nodes.<id>.body` (it is stored with the run). */
  maxStoredBodyChars: 65_536,
  /** Characters of an error response's body kept in `data.body`. */
  errorBodyChars: 2_000,
  maxRedirects: 5,
} as const;

const KEPT_HEADERS = ['content-type', 'content-length', 'location', 'etag', 'last-modified', 'retry-after', 'cache-control', 'x-request-id'];
const REFUSED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer']);

const failure = (code: string, message: string, extra: JsonObject = {}): NodeResult => ({
  output: 'error',
  data: { error: { code, message }, ...extra },
});

/** fetch's init with undici's `dispatcher`, which the DOM typing of RequestInit does not list. */
type DispatchedRequestInit = RequestInit & { dispatcher?: ReturnType<typeof createPinnedDispatcher>['dispatcher'] };

/**
 * Performs the request of an `http_request` node: refuses non-http(s) URLs and (unless the
 * workspace allows private networks) hosts resolving to private addresses, including after each
 * redirect, which it follows itself (at most 5). The check is made before each hop and again
 * when a connection is opened, and the connection goes to the address that passed (see
 * {@link createPinnedDispatcher}), so DNS rebinding cannot slip a private address in between.
 * Caps the time and the response size. A 2xx leaves by `success` with `{status, headers, body}`
 * and the mapped variables; anything else by `error` with `{error: {code, message}}` and, for an
 * HTTP error, the status and the start of the body.
 *
 * @param guard what the address guard resolves with and refuses (defaults: the system resolver and
 *   `isBlockedAddress`); used for the check before each hop and for the connect-time lookup.
 */
export async function performRequest(ctx: NodeExecutionContext, params: HttpRequestParams, guard: AddressGuardOptions = {}): Promise<NodeResult> {
  const timeoutMs = Math.min(Math.max(params.timeoutMs ?? HTTP_LIMITS.defaultTimeoutMs, 1), HTTP_LIMITS.maxTimeoutMs);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const headers = requestHeaders(ctx, params);
  let method: string = params.method;
  let body: string | undefined = method === 'GET' ? undefined : params.body;
  let target = params.url;
  let response: Response | undefined;
  // ctx.fetch must honour `dispatcher` (Node's and undici's fetch do) for the pin to hold.
  // undici (~19 MB of RSS) loads with the first guarded request, not with every server start.
  const pinned = ctx.config.allowPrivateNetwork ? undefined : (await import('./pinned-dispatcher.js')).createPinnedDispatcher(guard);
  try {
    for (let hop = 0; ; hop++) {
      const checked = await checkUrl(target, ctx.config.allowPrivateNetwork, guard);
      if ('refusal' in checked) return failure(checked.refusal.code, checked.refusal.message);
      if (body === undefined) headers.delete('content-type');
      const init: DispatchedRequestInit = { method, headers, body, redirect: 'manual', signal };
      if (pinned) init.dispatcher = pinned.dispatcher;
      response = await ctx.fetch(checked.url, init);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || response.status === 304 || !location) break;
      await response.body?.cancel().catch(() => undefined);
      if (hop >= HTTP_LIMITS.maxRedirects) return failure('too_many_redirects', `more than ${HTTP_LIMITS.maxRedirects} redirects`);
      // Browsers turn a redirected POST into a GET except on 307/308; servers expect the same.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method !== 'GET' && method !== 'HEAD')) {
        method = 'GET';
        body = undefined;
      }
      target = new URL(location, checked.url).toString();
    }
    const read = await readCapped(response, HTTP_LIMITS.maxResponseBytes);
    if (read.tooLarge) {
      return failure('response_too_large', `the response is larger than ${HTTP_LIMITS.maxResponseBytes} bytes`, { status: response.status });
    }
    const text = new TextDecoder().decode(read.bytes);
    const status = response.status;
    const kept = keptHeaders(response.headers);
    ctx.log('info', 'http_request completed', { method, host: new URL(target).host, status });
    if (status < 200 || status > 299) {
      return failure('http_status', `the server answered ${status}`, { status, headers: kept, body: text.slice(0, HTTP_LIMITS.errorBodyChars) });
    }
    const parsed = parseBody(text, response.headers.get('content-type'));
    const data: JsonObject = { status, headers: kept };
    if (text.length <= HTTP_LIMITS.maxStoredBodyChars) data.body = parsed;
    else data.bodyOmitted = true;
    const mapping = params.responseMapping ?? [];
    if (mapping.length === 0) return { output: 'success', data };
    const vars: Record<string, JsonValue> = {};
    for (const { path, variable } of mapping) vars[variable] = readPath(parsed, path) ?? null;
    return { output: 'success', data, set: { vars } };
  } catch (err) {
    const refusal = pinned?.refusal();
    if (refusal) return failure(refusal.code, refusal.message);
    if (timeout.aborted) return failure('timeout', `no complete response within ${timeoutMs} ms`);
    if (ctx.signal.aborted) return failure('aborted', 'the request was cancelled');
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return failure('network_error', cause?.message ?? (err as Error).message, cause?.code ? { errno: cause.code } : {});
  } finally {
    await pinned?.dispatcher.destroy().catch(() => undefined);
  }
}

function requestHeaders(ctx: NodeExecutionContext, params: HttpRequestParams): Headers {
  const headers = new Headers({ 'user-agent': 'Convoflow/0.1 (+http_request node)' });
  for (const { name, value } of params.headers ?? []) {
    if (!REFUSED_HEADERS.has(name.toLowerCase())) headers.set(name, value);
  }
  if (params.method !== 'GET' && !headers.has('idempotency-key')) headers.set('idempotency-key', ctx.idempotencyKey);
  if (params.body !== undefined && params.method !== 'GET' && !headers.has('content-type')) {
    headers.set('content-type', looksLikeJson(params.body) ? 'application/json' : 'text/plain; charset=utf-8');
  }
  return headers;
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return /^\s*[[{]/.test(text);
  } catch {
    return false;
  }
}

function parseBody(text: string, contentType: string | null): JsonValue {
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return text;
    }
  }
  return text;
}

function keptHeaders(headers: Headers): JsonObject {
  const kept: JsonObject = {};
  for (const name of KEPT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept[name] = value;
  }
  return kept;
}
