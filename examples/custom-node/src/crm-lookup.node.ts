import { actionNode, type NodeExecutionContext, type NodeResult } from '@convoflow/nodes';
import { customerData, firstCustomer } from './crm-response.js';
import { refusePrivateHost } from './private-address.js';

/** Params of `acme.crm_lookup`, as rendered. */
export interface CrmLookupParams {
  /** The email to look up; usually a template such as `{{vars.email}}`. */
  email: string;
  /** The CRM's API root. */
  baseUrl?: string;
  /** Give up after this many milliseconds (default 5000). */
  timeoutMs?: number;
}

/** Where Acme's CRM lives unless a flow says otherwise. */
export const DEFAULT_CRM_URL = 'https://crm.acme.example/api';
const DEFAULT_TIMEOUT_MS = 5_000;

const failed = (code: string, message: string, extra: Record<string, string | number> = {}): NodeResult => ({
  output: 'error',
  data: { error: { code, message, ...extra } },
});

/**
 * Looks the customer up: `GET <baseUrl>/customers?email=<email>`. A customer found leaves by
 * `found` with `{customerId, name, tier, lifetimeValue}`, an empty list or a 404 by `not_found`,
 * anything else (5xx, a body of the wrong shape, no answer in time) by `error`.
 *
 * Does I/O only through `ctx.fetch`, so the runtime can wrap it and tests can point it anywhere.
 */
export async function lookUpCustomer(ctx: NodeExecutionContext, params: CrmLookupParams): Promise<NodeResult> {
  const email = params.email.trim();
  if (email === '') return { output: 'not_found', data: { reason: 'no email given' } };
  let url: URL;
  try {
    url = new URL(`${(params.baseUrl ?? DEFAULT_CRM_URL).replace(/\/+$/, '')}/customers`);
  } catch {
    return failed('invalid_url', `"${params.baseUrl}" is not a URL`);
  }
  url.searchParams.set('email', email);
  const refusal = await refusePrivateHost(url, ctx.config.allowPrivateNetwork);
  if (refusal) return failed('blocked_address', refusal);

  const timeoutMs = params.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  let body: unknown;
  try {
    response = await ctx.fetch(url, {
      headers: { accept: 'application/json', 'x-request-id': ctx.idempotencyKey },
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (response.status === 404) return { output: 'not_found', data: { reason: 'unknown email' } };
    if (!response.ok) return failed('http_status', `the CRM answered ${response.status}`, { status: response.status });
    body = await response.json();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return failed(ctx.signal.aborted ? 'aborted' : 'unreachable', `the CRM did not answer: ${reason}`);
  }
  const customer = firstCustomer(body);
  if (customer === undefined) return failed('bad_response', 'the CRM answered with an unexpected body');
  if (customer === null) return { output: 'not_found', data: { reason: 'unknown email' } };
  ctx.log('info', 'crm customer found', { customerId: customer.id });
  return { output: 'found', data: customerData(customer) };
}

/**
 * `acme.crm_lookup` version 1: finds the contact in Acme's CRM by email and continues on
 * Found, Not found or Error. The customer is then readable in later nodes as
 * `nodes.<id>.name`, `.tier`, `.customerId` and `.lifetimeValue`.
 *
 * @example
 * const catalogue = createCatalogue([...builtinNodes, crmLookupNode]);
 */
export const crmLookupNode = actionNode<CrmLookupParams>({
  type: 'acme.crm_lookup',
  typeVersion: 1,
  category: 'integration',
  title: 'Find customer in Acme CRM',
  description:
    'Looks the contact up in the Acme CRM by email address and continues on Found (with their name, loyalty tier and spend), Not found, or Error when the CRM cannot be reached.',
  icon: 'search',
  params: {
    type: 'object',
    properties: {
      email: { type: 'string', format: 'template', minLength: 1, maxLength: 320, title: 'Email' },
      baseUrl: { type: 'string', format: 'template', minLength: 1, maxLength: 2048, default: DEFAULT_CRM_URL, title: 'CRM address' },
      timeoutMs: { type: 'integer', minimum: 100, maximum: 30_000, default: DEFAULT_TIMEOUT_MS, title: 'Timeout (ms)' },
    },
    required: ['email'],
    additionalProperties: false,
  },
  outputs: ['found', 'not_found', 'error'],
  failureOutput: 'error',
  execute: lookUpCustomer,
});
