import request from 'supertest';
import { docAjv, startApiEnv, type ApiEnv, type Harness } from './api-support.js';

let env: ApiEnv;
let h: Harness;
beforeAll(async () => {
  env = await startApiEnv();
});
afterAll(() => env.dispose());
beforeEach(async () => {
  h = await env.harness({ bodyLimit: '2kb', flowBodyLimit: '8kb' });
});

/** Every (method, path) Express has a route for, read from the app's own router; once each. */
function mountedRoutes(h: Harness): { method: string; path: string }[] {
  const router = (h.app as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router;
  const seen = new Map<string, { method: string; path: string }>();
  for (const layer of router.stack) {
    // A flow-document route has a second layer, its body parser (see createApp).
    for (const method of Object.keys(layer.route?.methods ?? {})) seen.set(`${method} ${layer.route!.path}`, { method, path: layer.route!.path });
  }
  return [...seen.values()];
}

describe('health, readiness and metrics', () => {
  it('should answer liveness and readiness', async () => {
    await request(h.app).get('/healthz').expect(200, { status: 'ok' });
    const ready = await request(h.app).get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ok', store: 'sqlite' });
  });

  it('should report not ready with 503 when the store is closed', async () => {
    // A runtime of its own: closing the shared store would end every later test.
    const closing = await startApiEnv();
    try {
      const own = await closing.harness();
      await request(own.app).get('/readyz').expect(200);
      await closing.runtime.stop();
      await closing.store.close();
      const res = await request(own.app).get('/readyz').expect(503);
      expect(res.body.status).toBe('unavailable');
    } finally {
      await closing.dispose();
    }
  });

  it('should report not ready with 503 once the server is shutting down, and end long polls at once', async () => {
    const poll = request(h.app).get('/api/simulator/messages').query({ contact: 'quiet', wait: 20_000 }).set(h.auth());
    const answered = poll.then((res) => res);
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    h.beginShutdown();
    const res = await answered;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], after: 0 });
    expect(performance.now() - started).toBeLessThan(5_000);

    const ready = await request(h.app).get('/readyz').expect(503);
    expect(ready.body).toEqual({ status: 'shutting_down', store: 'sqlite' });
    // A long poll that comes in meanwhile answers at once too; the rest of the API still serves.
    const late = await request(h.app).get('/api/simulator/messages').query({ contact: 'quiet', wait: 20_000 }).set(h.auth()).expect(200);
    expect(late.body).toEqual({ items: [], after: 0 });
    await request(h.app).get('/api/flows').set(h.auth()).expect(200);
  });

  it('should expose request counters and duration histograms labelled by route template', async () => {
    await request(h.app).get('/api/flows/nope').set(h.auth()).expect(404);
    await request(h.app).get('/no/such/route').expect(404);
    const res = await request(h.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('http_request_duration_seconds_bucket');
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/api\/flows\/:id",status="404"\} 1/);
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  });

  it('should let the runtime register its own instruments on the same registry', async () => {
    const { Counter } = await import('prom-client');
    new Counter({ name: 'convoflow_runs_started_total', help: 'runs', registers: [h.metrics.registry] }).inc(3);
    const res = await request(h.app).get('/metrics').expect(200);
    expect(res.text).toContain('convoflow_runs_started_total 3');
  });
});

describe('problem+json errors', () => {
  it('should answer an unknown route with 404 problem+json', async () => {
    const res = await request(h.app).get('/api/unknown').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'https://convoflow.dev/problems/not-found', title: 'Not Found', status: 404, instance: '/api/unknown' });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it('should answer a known path with the wrong method with 405 and Allow', async () => {
    const res = await request(h.app).patch('/api/flows').set(h.auth()).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.body.status).toBe(405);
    const one = await request(h.app).delete('/api/flows/f1/versions').expect(405);
    expect(one.headers.allow).toBe('GET, HEAD');
  });

  it('should answer malformed JSON with 400', async () => {
    const res = await request(h.app).post('/api/flows').set(h.auth()).set('content-type', 'application/json').send('{"id": "x",').expect(400);
    expect(res.body).toMatchObject({ status: 400, type: 'https://convoflow.dev/problems/malformed-json' });
  });

  it('should answer a body over the limit with 413: bodyLimit, or flowBodyLimit for a flow document', async () => {
    const res = await request(h.app).post('/api/contacts').set(h.auth()).send({ fields: { blob: 'x'.repeat(4000) } }).expect(413);
    expect(res.body).toMatchObject({ status: 413, title: 'Content Too Large', detail: 'The body exceeds the limit of 2048 bytes.' });
    await request(h.app).post('/api/validate').set(h.auth()).send({ blob: 'x'.repeat(4000) }).expect(200);
    const flow = await request(h.app).post('/api/validate').set(h.auth()).send({ blob: 'x'.repeat(10_000) }).expect(413);
    expect(flow.body.detail).toBe('The body exceeds the limit of 8192 bytes.');
  });

  it('should answer a non-JSON body with 415', async () => {
    const res = await request(h.app).post('/api/contacts').set(h.auth()).set('content-type', 'text/plain').send('fields=1').expect(415);
    expect(res.body.status).toBe(415);
  });

  it('should answer a missing body with 422 naming the body', async () => {
    const res = await request(h.app).post('/api/contacts').set(h.auth()).expect(422);
    expect(res.body.errors).toEqual([{ field: '/', message: 'a JSON body is required' }]);
  });

  it('should keep a sane caller request id and replace an unsafe one', async () => {
    const kept = await request(h.app).get('/healthz').set('x-request-id', 'abc-123').expect(200);
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(h.app).get('/healthz').set('x-request-id', 'bad id\twith spaces').expect(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('extra handlers', () => {
  it('should mount raw-body handlers before JSON parsing and static handlers before the fallback', async () => {
    const { default: express } = await import('express');
    const extra = await env.harness({}, {
      beforeBody: (app) => app.post('/webhooks/raw', express.raw({ type: '*/*' }), (req, res) => { res.json({ bytes: (req.body as Buffer).length }); }),
      afterApi: (app) => app.get('/designer/', (_req, res) => { res.type('html').send('<h1>designer</h1>'); }),
    });
    const raw = await request(extra.app).post('/webhooks/raw').set('content-type', 'application/json').send('{"a": 1}').expect(200);
    expect(raw.body).toEqual({ bytes: 8 });
    await request(extra.app).get('/designer/').expect(200, '<h1>designer</h1>');
    await request(extra.app).get('/designer/missing').expect(404);
  });
});

describe('request logs', () => {
  it('should log one JSON line per request with the request id and no credentials', async () => {
    await request(h.app).get('/api/flows').set(h.auth()).set('x-request-id', 'req-log-1').expect(200);
    await request(h.app).post('/api/hooks/ws/flow/trigger?secret=top-secret-value').send({}).expect(404);
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.reqId === 'req-log-1');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/api/flows', route: '/api/flows', status: 200, workspaceId: h.ws });
    const all = h.logs.join('\n');
    expect(all).not.toContain(h.keys.admin);
    expect(all).not.toContain('top-secret-value');
    expect(all.toLowerCase()).not.toContain('authorization');
  });
});

describe('OpenAPI document', () => {
  it('should be a valid OpenAPI 3.1 document describing every mounted route', async () => {
    const res = await request(h.app).get('/openapi.json').expect(200);
    const doc = JSON.parse(res.text) as { openapi: string; paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe('3.1.0');
    const routes = mountedRoutes(h);
    expect(routes.length).toBeGreaterThan(30);
    for (const { method, path } of routes) {
      const openApiPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect({ route: `${method} ${path}`, documented: Boolean(doc.paths[openApiPath]?.[method]) }).toEqual({ route: `${method} ${path}`, documented: true });
    }
    const documented = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(documented).toBe(routes.length);
  });

  it('should document security, problem responses and request bodies', async () => {
    const { body: doc } = await request(h.app).get('/openapi.json').expect(200);
    const publish = doc.paths['/api/flows/{id}/publish'].post;
    expect(publish.security).toEqual([{ bearerAuth: [] }]);
    expect(publish['x-roles']).toEqual(['admin', 'team_admin']);
    expect(publish.responses['422'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(doc.paths['/api/flows'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/FlowDefinition' });
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/api/hooks/{workspaceId}/{flowId}/{triggerId}'].post.security).toHaveLength(3);
    expect(doc.paths['/api/api-keys'].post['x-roles']).toEqual(['admin']);
  });

  it('should hold only resolvable, compilable schemas', async () => {
    const { body: doc } = await request(h.app).get('/openapi.json').expect(200);
    const ajv = docAjv();
    ajv.addSchema({ ...doc, $id: 'doc' });
    const refs = JSON.stringify(doc.paths).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const ref of new Set(refs)) {
      expect(() => ajv.compile({ $ref: `doc${ref}` })).not.toThrow();
    }
  });
});
