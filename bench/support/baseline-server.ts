/**
 * The HTTP floor of bench/http.ts: Node's own HTTP server (what the product's fast lane serves the
 * simulator routes on) with the two routes and no work behind them. POST reads and parses its JSON
 * body and answers 202, or 200 with one reply when it asks to `wait`; GET answers at once with one
 * reply. Run as a child by `startServerChild` with `baseline: true`; listens on PORT, prints nothing.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

let seq = 0;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** One reply newer than the request's `after`. */
function transcriptAfter(url: URL): { items: unknown[]; after: number } {
  const next = Number(url.searchParams.get('after') ?? 0) + 1;
  return { items: [{ seq: next, runId: 'run', nodeId: 'reply', message: { kind: 'text', text: 'done 12' }, at: Date.now() }], after: next };
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://baseline');
  if (req.method === 'POST' && url.pathname === '/api/simulator/messages') {
    readJson(req).then(
      (body) => {
        if (typeof (body as { contact?: unknown }).contact !== 'string') reply(res, 400, { title: 'contact is required' });
        else if (url.searchParams.has('wait')) reply(res, 200, { accepted: true, journalId: `jrn_${++seq}`, ...transcriptAfter(url) });
        else reply(res, 202, { accepted: true, journalId: `jrn_${++seq}` });
      },
      () => reply(res, 400, { title: 'malformed JSON' }),
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/api/simulator/messages') {
    reply(res, 200, transcriptAfter(url));
    return;
  }
  if (req.method === 'GET' && url.pathname === '/healthz') {
    reply(res, 200, { status: 'ok' });
    return;
  }
  reply(res, 404, { title: 'not found' });
}).listen(Number(process.env.PORT), '127.0.0.1');
