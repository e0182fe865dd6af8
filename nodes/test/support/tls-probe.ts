/**
 * Runs http_request against `https://<host>:<port>/orders/A1` through the DNS-pinning guard, in a
 * process started with NODE_EXTRA_CA_CERTS (read only at start-up) trusting the test CA, and
 * prints the node's result as JSON. Every host resolves to 127.0.0.1, which the guard lets
 * through: what decides the outcome is the TLS check of the URL's host name.
 *
 *   NODE_EXTRA_CA_CERTS=nodes/test/fixtures/tls/ca.pem node --import tsx nodes/test/support/tls-probe.ts <host> <port>
 */
import type { JsonObject } from '@convoflow/engine';
import { createHttpRequestNode, isBlockedAddress } from '../../src/index.js';
import { executionContext } from './execution-context.js';

const [host, port] = process.argv.slice(2);
const node = createHttpRequestNode({
  isBlocked: (address) => address !== '127.0.0.1' && isBlockedAddress(address),
  resolve: async () => ['127.0.0.1'],
});
if (!node.execute) throw new Error('http_request has no execute');
const result = await node.execute(executionContext({ allowPrivateNetwork: false }), {
  method: 'GET',
  url: `https://${host}:${port}/orders/A1`,
} as JsonObject);
process.stdout.write(JSON.stringify(result));
