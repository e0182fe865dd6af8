import type { ExecutableNodeDefinition } from '../../types.js';
import { actionNode, type ActionNodeSpec } from '../../helpers/action-node.js';
import type { AddressGuardOptions } from './address-guard.js';
import { HTTP_LIMITS, performRequest, type HttpRequestParams } from './perform-request.js';

export type { HttpRequestParams } from './perform-request.js';

const VARIABLE = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

const SPEC: Omit<ActionNodeSpec<HttpRequestParams>, 'execute'> = {
  type: 'http_request',
  typeVersion: 1,
  category: 'integration',
  title: 'HTTP request',
  description:
    'Calls another system over the web (for example your order system) and saves parts of its answer into variables, such as the order status. Continues on Error if the call fails or the system answers with an error.',
  icon: 'globe',
  params: {
    type: 'object',
    properties: {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'GET' },
      url: { type: 'string', format: 'template', minLength: 1, maxLength: 2048 },
      headers: {
        type: 'array',
        maxItems: 30,
        items: {
          type: 'object',
          properties: {
            name: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$" },
            value: { type: 'string', format: 'template', maxLength: 4096 },
          },
          required: ['name', 'value'],
          additionalProperties: false,
        },
      },
      body: { type: 'string', format: 'template', maxLength: 100_000 },
      timeoutMs: { type: 'integer', minimum: 100, maximum: HTTP_LIMITS.maxTimeoutMs, default: HTTP_LIMITS.defaultTimeoutMs },
      responseMapping: {
        type: 'array',
        maxItems: 50,
        items: {
          type: 'object',
          properties: {
            path: { type: 'string', minLength: 1, maxLength: 200, description: 'Dotted path into the JSON response, e.g. data.status or items.0.id' },
            variable: { type: 'string', pattern: VARIABLE },
          },
          required: ['path', 'variable'],
          additionalProperties: false,
        },
      },
    },
    required: ['method', 'url'],
    additionalProperties: false,
  },
  outputs: ['success', 'error'],
  failureOutput: 'error',
  writesVariables: ['responseMapping.variable'],
};

/**
 * Builds the `http_request` node with its own address guard: the resolver it checks and connects
 * with (for example a caching or DNS-over-HTTPS one) and the test of which addresses to refuse.
 * {@link httpRequestNode} is this with the system resolver and {@link isBlockedAddress}.
 *
 * @example
 * const node = createHttpRequestNode({ resolve: (host) => myResolver.addresses(host) });
 */
export function createHttpRequestNode(guard: AddressGuardOptions = {}): ExecutableNodeDefinition {
  return actionNode<HttpRequestParams>({ ...SPEC, execute: (ctx, params) => performRequest(ctx, params, guard) });
}

/**
 * HTTP request: calls a web API and continues on `success` (2xx) or `error`. The response is
 * available as `nodes.<id>.status`, `.headers` and `.body` (JSON parsed), and `responseMapping`
 * copies parts of a JSON response into variables. Private and internal addresses are refused
 * unless the workspace allows them: checked before the request and each redirect, and again when
 * a connection is opened, which then goes to the address that passed (no DNS rebinding).
 */
export const httpRequestNode = createHttpRequestNode();
