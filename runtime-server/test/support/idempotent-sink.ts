import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP endpoint that behaves like a provider honouring `Idempotency-Key`: the first
 * request with a key is applied, a repeat is answered with the same result and not applied again.
 * It counts both, so a test can tell "applied once" from "delivered once".
 */
export interface IdempotentSink {
  url: string;
  /** Requests received per key (deliveries, including repeats). */
  deliveries: Map<string, number>;
  /** Requests without a key. */
  unkeyed: number;
  close(): Promise<void>;
}

export async function startIdempotentSink(): Promise<IdempotentSink> {
  const deliveries = new Map<string, number>();
  const sink = { deliveries, unkeyed: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      if (typeof key !== 'string') sink.unkeyed += 1;
      else deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, status: 'recorded' }));
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    get unkeyed() {
      return sink.unkeyed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
