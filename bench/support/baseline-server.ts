/**
 * The HTTP floor of bench/http.ts: a bare Express 5 app (the product's framework) with the two
 * simulator routes and no work behind them. POST journals nothing and answers 202; GET answers at
 * once with one reply. Run as a child by `startBaselineChild`; listens on PORT, prints nothing.
 */
import express from 'express';

const app = express();
app.use(express.json({ limit: '1mb' }));
let seq = 0;
app.post('/api/simulator/messages', (req, res) => {
  const body = req.body as { contact?: unknown };
  if (typeof body.contact !== 'string') {
    res.status(400).json({ title: 'contact is required' });
    return;
  }
  res.status(202).json({ accepted: true, journalId: `jrn_${++seq}` });
});
app.get('/api/simulator/messages', (req, res) => {
  const after = Number(req.query.after ?? 0);
  const next = after + 1;
  res.json({ items: [{ seq: next, runId: 'run', nodeId: 'reply', message: { kind: 'text', text: 'done 12' }, at: Date.now() }], after: next });
});
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.listen(Number(process.env.PORT), '127.0.0.1');
