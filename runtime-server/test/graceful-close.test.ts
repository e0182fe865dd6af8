import { Agent, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDrainableServer } from '../src/http/graceful-close.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function fetchOver(agent: Agent, server: Server, path: string): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    }).on('error', reject);
  });
}

async function listening(server: Server): Promise<void> {
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
}

describe('createDrainableServer', () => {
  let agent: Agent;
  beforeEach(() => {
    agent = new Agent({ keepAlive: true });
  });
  afterEach(() => agent.destroy());

  it('should answer the requests in flight with Connection: close and close once they are done', async () => {
    const { server, drain } = createDrainableServer((req, res) => {
      setTimeout(() => res.end(`answered ${req.url}`), 200);
    });
    await listening(server);
    // Kept-alive connections that a plain close() would leave open until their timeout (5 s).
    expect((await fetchOver(agent, server, '/warm')).connection).toBe('keep-alive');
    const inFlight = [fetchOver(agent, server, '/a'), fetchOver(agent, server, '/b'), fetchOver(agent, server, '/c')];
    await new Promise((r) => setTimeout(r, 50));

    const started = performance.now();
    const drained = await drain(10_000);
    const tookMs = performance.now() - started;

    expect(drained).toEqual({ cut: false });
    expect(await Promise.all(inFlight)).toEqual(['/a', '/b', '/c'].map((path) => ({ status: 200, connection: 'close', body: `answered ${path}` })));
    expect(server.listening).toBe(false);
    expect(tookMs).toBeLessThan(2_000);
  });

  it('should cut what is still open when the grace runs out, and say so', async () => {
    const { server, drain } = createDrainableServer(() => {
      // never answers
    });
    await listening(server);
    const hanging = fetchOver(agent, server, '/forever').then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    await new Promise((r) => setTimeout(r, 50));

    expect(await drain(100)).toEqual({ cut: true });
    expect(await hanging).toBe('ECONNRESET');
    expect(server.listening).toBe(false);
  });

  it('should close at once when nothing is in flight', async () => {
    const { server, drain } = createDrainableServer((_req, res) => res.end('ok'));
    await listening(server);
    expect((await fetchOver(agent, server, '/')).body).toBe('ok');
    const started = performance.now();
    expect(await drain(10_000)).toEqual({ cut: false });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
