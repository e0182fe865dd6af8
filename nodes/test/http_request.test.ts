import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { nodeCompleted, type JsonObject } from '@convoflow/engine';
import {
  createHttpRequestNode,
  HTTP_LIMITS,
  httpRequestNode,
  isBlockedAddress,
  TEST_NOW,
  type AddressGuardOptions,
  type HttpRequestParams,
} from '../src/index.js';
import { assertValidParams, enter, on, scopeFor } from './support/behaviour.js';
import { executionContext } from './support/execution-context.js';

let server: Server;
let base: string;
/** Paths the local server was asked for, to prove a refused request never reached it. */
const served: string[] = [];

const readBody = async (req: IncomingMessage): Promise<string> => {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
};

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    served.push(url.pathname);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-1', 'set-cookie': 'secret=1' });
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/orders/A1':
        return json(200, { data: { status: 'shipped', eta: '2025-01-08', items: [{ sku: 'TEE-M', qty: 2 }] } });
      case '/echo':
        return json(201, { method: req.method, headers: req.headers, body: await readBody(req) });
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('pong');
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' });
        return res.end(`not found ${'x'.repeat(5000)}`);
      case '/redirect':
        res.writeHead(302, { location: '/orders/A1' });
        return res.end();
      case '/post-redirect':
        res.writeHead(303, { location: '/echo' });
        return res.end();
      case '/redirect-loop':
        res.writeHead(307, { location: '/redirect-loop' });
        return res.end();
      case '/redirect-file':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        return res.end();
      case '/huge': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 97);
        for (let i = 0; i < 24; i++) res.write(chunk);
        return res.end();
      }
      case '/huge-declared':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(5 * 1024 * 1024) });
        return res.end('short');
      case '/redirect-to':
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
        return res.end();
      case '/large-json':
        return json(200, { blob: 'y'.repeat(HTTP_LIMITS.maxStoredBodyChars), id: 'L1' });
      default:
        res.writeHead(500);
        return res.end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

const run = (params: HttpRequestParams, allowPrivateNetwork = true, signal?: AbortSignal, node = httpRequestNode) => {
  assertValidParams(node, params as unknown as JsonObject);
  const ctx = executionContext(signal ? { allowPrivateNetwork, signal } : { allowPrivateNetwork });
  const execute = node.execute;
  if (!execute) throw new Error('http_request has no execute');
  return execute(ctx, params as unknown as JsonObject);
};

describe('http_request node: behaviour', () => {
  it('should emit executeNode with its rendered params, and leave by the reported outcome', () => {
    const params = { method: 'GET', url: `${base}/orders/A1`, responseMapping: [{ path: 'data.status', variable: 'orderStatus' }] };
    const ctx = scopeFor(httpRequestNode, { nodeId: 'fetch_order', params });
    expect(enter(httpRequestNode, ctx)).toEqual({ type: 'stay', effects: [{ type: 'executeNode', params }], waitingFor: 'effect' });
    const done = nodeCompleted({ at: TEST_NOW, nodeId: 'fetch_order', seq: 2, output: 'success', data: { status: 200 }, set: { vars: { orderStatus: 'shipped' } } });
    expect(on(httpRequestNode, ctx, done)).toEqual({ type: 'leave', output: 'success', data: { status: 200 }, set: { vars: { orderStatus: 'shipped' } } });
  });
});

describe('http_request node: execute against a local server', () => {
  it('should GET JSON, keep a subset of headers and map fields into variables', async () => {
    const result = await run({
      method: 'GET',
      url: `${base}/orders/A1`,
      responseMapping: [
        { path: 'data.status', variable: 'orderStatus' },
        { path: 'data.items.0.sku', variable: 'firstSku' },
        { path: 'data.missing', variable: 'nothing' },
      ],
    });
    expect(result).toEqual({
      output: 'success',
      data: {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req-1' },
        body: { data: { status: 'shipped', eta: '2025-01-08', items: [{ sku: 'TEE-M', qty: 2 }] } },
      },
      set: { vars: { orderStatus: 'shipped', firstSku: 'TEE-M', nothing: null } },
    });
  });

  it('should POST a JSON body with headers, a content type and the idempotency key', async () => {
    const result = await run({
      method: 'POST',
      url: `${base}/echo`,
      headers: [{ name: 'Authorization', value: 'Bearer t0k3n' }, { name: 'Host', value: 'evil.example' }],
      body: '{"orderId":"A1"}',
    });
    expect(result.output).toBe('success');
    const echoed = result.data?.body as JsonObject;
    const headers = echoed.headers as JsonObject;
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe('{"orderId":"A1"}');
    expect(headers.authorization).toBe('Bearer t0k3n');
    expect(headers['content-type']).toBe('application/json');
    expect(headers['idempotency-key']).toBe('run-1:7');
    expect(headers['user-agent']).toMatch(/^Convoflow/);
    expect(headers.host).toBe(new URL(base).host);
  });

  it('should return text bodies as text', async () => {
    expect(await run({ method: 'GET', url: `${base}/text` })).toMatchObject({ output: 'success', data: { status: 200, body: 'pong' } });
  });

  it('should leave by error with the status and the start of the body on a non-2xx answer', async () => {
    const result = await run({ method: 'GET', url: `${base}/missing` });
    expect(result).toMatchObject({ output: 'error', data: { error: { code: 'http_status' }, status: 404 } });
    expect((result.data?.body as string).length).toBe(HTTP_LIMITS.errorBodyChars);
  });

  it('should follow redirects itself, turning a POST into a GET on 303', async () => {
    expect(await run({ method: 'GET', url: `${base}/redirect` })).toMatchObject({ output: 'success', data: { body: { data: { status: 'shipped' } } } });
    const posted = await run({ method: 'POST', url: `${base}/post-redirect`, body: 'x' });
    expect(posted).toMatchObject({ output: 'success', data: { body: { method: 'GET', body: '' } } });
  });

  it('should stop after five redirects and check every hop', async () => {
    expect(await run({ method: 'GET', url: `${base}/redirect-loop` })).toMatchObject({ output: 'error', data: { error: { code: 'too_many_redirects' } } });
    expect(await run({ method: 'GET', url: `${base}/redirect-file` })).toMatchObject({ output: 'error', data: { error: { code: 'unsupported_scheme' } } });
  });

  it('should refuse a response larger than the cap, declared or streamed', async () => {
    expect(await run({ method: 'GET', url: `${base}/huge` })).toMatchObject({ output: 'error', data: { error: { code: 'response_too_large' } } });
    expect(await run({ method: 'GET', url: `${base}/huge-declared` })).toMatchObject({ output: 'error', data: { error: { code: 'response_too_large' } } });
  });

  it('should not store a large body with the run but still map from it', async () => {
    const result = await run({ method: 'GET', url: `${base}/large-json`, responseMapping: [{ path: 'id', variable: 'id' }] });
    expect(result).toMatchObject({ output: 'success', data: { status: 200, bodyOmitted: true }, set: { vars: { id: 'L1' } } });
    expect(result.data).not.toHaveProperty('body');
  });

  it('should leave by error when the run is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await run({ method: 'GET', url: `${base}/orders/A1` }, true, controller.signal)).toMatchObject({
      output: 'error',
      data: { error: { code: 'aborted' } },
    });
  });

  it('should leave by error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    expect(await run({ method: 'GET', url: `http://127.0.0.1:${port}/` })).toMatchObject({ output: 'error', data: { error: { code: 'network_error' } } });
  });
});

describe('http_request node: address guard', () => {
  it.each([
    ['loopback', () => `${base}/orders/A1`],
    ['private 10.x', () => 'http://10.0.0.1/'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 loopback', () => 'http://[::1]/'],
    ['localhost by name', () => `http://localhost:${new URL(base).port}/orders/A1`],
    ['IPv4-mapped IPv6', () => 'http://[::ffff:127.0.0.1]/'],
    ['decimal IPv4', () => 'http://2130706433/'],
  ])('should refuse %s unless private networks are allowed', async (_label, url) => {
    expect(await run({ method: 'GET', url: url() }, false)).toMatchObject({ output: 'error', data: { error: { code: 'blocked_address' } } });
  });

  it('should refuse schemes other than http and https, and credentials in the URL', async () => {
    expect(await run({ method: 'GET', url: 'file:///etc/passwd' }, false)).toMatchObject({ data: { error: { code: 'unsupported_scheme' } } });
    expect(await run({ method: 'GET', url: 'ftp://example.com/x' }, true)).toMatchObject({ data: { error: { code: 'unsupported_scheme' } } });
    expect(await run({ method: 'GET', url: 'http://user:pw@example.com/' }, true)).toMatchObject({ data: { error: { code: 'invalid_url' } } });
    expect(await run({ method: 'GET', url: 'not a url' }, true)).toMatchObject({ data: { error: { code: 'invalid_url' } } });
  });

  it('should classify addresses', () => {
    const blocked = [
      '0.0.0.0', '10.255.0.1', '100.64.0.1', '100.127.255.254', '127.0.0.1', '169.254.169.254', '172.16.0.1', '172.31.255.255',
      '192.168.1.1', '198.18.0.1', '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1%eth0', 'fd00::1', 'fc00::1', 'ff02::1',
      '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1', '2002:0a00:0001::1', '2001:db8::1', 'not-an-ip',
    ];
    const allowed = ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:0808:0808::1'];
    expect(blocked.filter((ip) => !isBlockedAddress(ip))).toEqual([]);
    expect(allowed.filter((ip) => isBlockedAddress(ip))).toEqual([]);
  });
});

describe('http_request node: DNS rebinding', () => {
  // A public-looking address: the guard's check sees it, but no connection is ever made to it
  // (the connect-time lookup either refuses or gets a loopback address).
  const PUBLIC = '93.184.216.34';

  /** A resolver that answers `first` once, then `then` on every later call, counting calls. */
  const rebinding = (first: string, then: string) => {
    const calls: string[] = [];
    const resolve = async (host: string): Promise<string[]> => {
      calls.push(host);
      return [calls.length === 1 ? first : then];
    };
    return { calls, resolve };
  };

  const nodeWith = (guard: AddressGuardOptions) => createHttpRequestNode(guard);

  it('should refuse a host that answers a public address to the check and 127.0.0.1 to the connection', async () => {
    const dns = rebinding(PUBLIC, '127.0.0.1');
    served.length = 0;
    // "localhost" so that a fetch doing its own lookup after the check (the unpinned code path
    // before this fix) would reach the server: that path leaves by success with the order.
    const url = `http://localhost:${new URL(base).port}/orders/A1`;
    const result = await run({ method: 'GET', url }, false, undefined, nodeWith({ resolve: dns.resolve }));
    expect(result).toEqual({
      output: 'error',
      data: {
        error: {
          code: 'blocked_address',
          message: 'localhost resolves to 127.0.0.1, a private or reserved address; a workspace admin can allow private networks',
        },
      },
    });
    expect(dns.calls).toEqual(['localhost', 'localhost']);
    expect(served).toEqual([]);
  });

  it('should reach the local server when the workspace allows private networks, whatever the resolver answers', async () => {
    const dns = rebinding(PUBLIC, '127.0.0.1');
    served.length = 0;
    const url = `http://localhost:${new URL(base).port}/orders/A1`;
    const result = await run({ method: 'GET', url }, true, undefined, nodeWith({ resolve: dns.resolve }));
    expect(result).toMatchObject({ output: 'success', data: { status: 200, body: { data: { status: 'shipped' } } } });
    expect(served).toEqual(['/orders/A1']);
    // No filtering, so no guard lookups: the request resolves the host as it always did.
    expect(dns.calls).toEqual([]);
  });

  describe('with a guard that lets 127.0.0.1 through (standing in for a public server)', () => {
    const port = () => new URL(base).port;
    /** api.test is the local server; rebind.test answers a public address once, then 127.0.0.2. */
    const guard = (): AddressGuardOptions & { calls: string[] } => {
      const calls: string[] = [];
      return {
        calls,
        isBlocked: (address) => address !== '127.0.0.1' && isBlockedAddress(address),
        resolve: async (host) => {
          calls.push(host);
          if (host === 'api.test') return ['127.0.0.1'];
          return [calls.filter((h) => h === host).length === 1 ? PUBLIC : '127.0.0.2'];
        },
      };
    };

    it('should connect to the checked address and keep the original Host header', async () => {
      const g = guard();
      const result = await run({ method: 'POST', url: `http://api.test:${port()}/echo`, body: '{}' }, false, undefined, nodeWith(g));
      expect(result).toMatchObject({ output: 'success', data: { status: 201 } });
      expect(((result.data?.body as JsonObject).headers as JsonObject).host).toBe(`api.test:${port()}`);
      expect(g.calls).toEqual(['api.test', 'api.test']);
    });

    it('should refuse a redirect to a blocked address', async () => {
      served.length = 0;
      const to = encodeURIComponent(`http://127.0.0.2:${port()}/orders/A1`);
      const result = await run({ method: 'GET', url: `http://api.test:${port()}/redirect-to?to=${to}` }, false, undefined, nodeWith(guard()));
      expect(result).toMatchObject({
        output: 'error',
        data: { error: { code: 'blocked_address', message: expect.stringContaining('127.0.0.2 resolves to 127.0.0.2') } },
      });
      expect(served).toEqual(['/redirect-to']);
    });

    it('should refuse a redirect to a host that rebinds to a blocked address between the check and the connection', async () => {
      served.length = 0;
      const g = guard();
      const to = encodeURIComponent(`http://rebind.test:${port()}/orders/A1`);
      const result = await run({ method: 'GET', url: `http://api.test:${port()}/redirect-to?to=${to}` }, false, undefined, nodeWith(g));
      expect(result).toEqual({
        output: 'error',
        data: {
          error: {
            code: 'blocked_address',
            message: 'rebind.test resolves to 127.0.0.2, a private or reserved address; a workspace admin can allow private networks',
          },
        },
      });
      expect(g.calls).toEqual(['api.test', 'api.test', 'rebind.test', 'rebind.test']);
      expect(served).toEqual(['/redirect-to']);
    });
  });
});

describe('http_request node: TLS through the pinned connection', () => {
  // The pinned dispatcher connects to the checked address; the certificate must still be checked
  // against the URL's host. The test CA is trusted only by a child process (NODE_EXTRA_CA_CERTS is
  // read at start-up); its server certificate names api.test alone. Fixtures: nodes/test/fixtures/tls.
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));
  let tls: TlsServer;
  const names: Array<string | false | null> = [];

  beforeAll(async () => {
    tls = createTlsServer({ key: readFileSync(fixture('api.test.key')), cert: readFileSync(fixture('api.test.pem')) }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { status: 'shipped', path: req.url } }));
    });
    tls.on('secureConnection', (socket) => names.push(socket.servername));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => tls.close(() => resolve())));

  const probe = (host: string, trustTestCa = true): Promise<JsonObject> =>
    new Promise((resolve, reject) => {
      const env = { ...process.env };
      if (trustTestCa) env.NODE_EXTRA_CA_CERTS = fixture('ca.pem');
      else delete env.NODE_EXTRA_CA_CERTS;
      execFile(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./support/tls-probe.ts', import.meta.url)), host, String((tls.address() as AddressInfo).port)],
        { env, timeout: 30_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as JsonObject)),
      );
    });

  it('should verify the certificate against the host name and send it as SNI', async () => {
    names.length = 0;
    expect(await probe('api.test')).toMatchObject({ output: 'success', data: { status: 200, body: { data: { status: 'shipped' } } } });
    expect(names).toEqual(['api.test']);
  }, 40_000);

  it('should refuse a server whose certificate names another host, though the address was allowed', async () => {
    expect(await probe('other.test')).toMatchObject({ output: 'error', data: { errno: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
  }, 40_000);

  it('should refuse a certificate from an authority the process does not trust', async () => {
    expect(await probe('api.test', false)).toMatchObject({ output: 'error', data: { errno: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
  }, 40_000);
});
