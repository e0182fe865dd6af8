import {
  createServer,
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type RequestListener,
  type Server,
} from 'node:http';

/** How often a draining server closes the connections that went idle since the last look. */
const IDLE_SWEEP_MS = 20;

/** An HTTP server that can be closed without cutting the requests it is answering. */
export interface DrainableServer {
  readonly server: Server;
  /**
   * Stops accepting connections and lets the requests in flight finish: every response written from
   * now on carries `Connection: close`, and each connection is closed once it is idle. Whatever is
   * still open after `graceMs` is cut. Resolves when the server is closed; `cut` says whether the
   * grace ran out.
   */
  drain(graceMs: number): Promise<{ cut: boolean }>;
}

/**
 * Creates the HTTP server `server.ts` listens with. `server.close()` alone is not a graceful close:
 * a response in flight still says `keep-alive`, so the client sends its next request down the same
 * connection, and the server stays open until the keep-alive timeout. `closeAllConnections()` is
 * worse: it cuts requests that were about to be answered (a journaled message's 2xx among them).
 *
 * @example
 * const { server, drain } = createDrainableServer(requestListener(app));
 * server.listen(3000);
 * process.on('SIGTERM', () => void drain(10_000).then(() => process.exit(0)));
 */
export function createDrainableServer(listener: RequestListener): DrainableServer {
  let draining = false;
  // Responses decide keep-alive when they write their head, which may be long after the request
  // came in (a long poll): so the check is made there, not when the request arrives.
  class DrainAwareResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
    override writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
    override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
    override writeHead(statusCode: number, ...rest: Array<string | OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined>): this {
      if (draining && !this.headersSent) this.setHeader('connection', 'close');
      return super.writeHead(statusCode, ...(rest as [string | undefined, OutgoingHttpHeaders | undefined]));
    }
  }
  const server = createServer({ ServerResponse: DrainAwareResponse }, listener);
  return {
    server,
    drain(graceMs) {
      draining = true;
      // Connections idle now are closed by close() itself; the others by the sweep as they finish.
      return new Promise((resolve) => {
        let cut = false;
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        const deadline = setTimeout(() => {
          cut = true;
          server.closeAllConnections();
        }, graceMs);
        server.close(() => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve({ cut });
        });
      });
    },
  };
}
