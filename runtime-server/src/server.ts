import { requestListener } from './app.js';
import { answerClientError } from './http/client-error.js';
import { createDrainableServer } from './http/graceful-close.js';
import { bootstrap } from './bootstrap.js';
import { ConfigError, readConfig } from './config.js';
import { describeStartFailure } from './start-failure.js';

/**
 * Starts Convoflow: `npm start`. Listens on PORT (3000), seeds the demo workspace on first start
 * and prints the admin key. SIGTERM/SIGINT stop accepting connections, answer the requests in
 * flight (long polls at once, with what they have; the rest within SHUTDOWN_GRACE_MS), then drain
 * in-flight effects and close the store.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`convoflow: bad configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const parts = await bootstrap(config);
  const { server, drain } = createDrainableServer(requestListener(parts.app));
  server.on('clientError', answerClientError).listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  parts.logger.info({ port, store: parts.store.kind, owner: parts.runtime.owner }, 'convoflow listening');
  const lines = [`Convoflow is running at ${base}  (store: ${parts.store.kind})`];
  if (parts.demo?.adminKey) {
    lines.push(`Demo workspace: ${parts.demo.workspaceId}`, `Admin API key: ${parts.demo.adminKey}`);
    if (parts.demo.published.length > 0) lines.push(`Published example flows: ${parts.demo.published.join(', ')}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal while draining (Ctrl-C twice): stop waiting. Nothing acknowledged is lost:
      // effects cut now are performed again, with the same idempotency key, after the restart.
      parts.logger.warn({ signal }, 'second signal while shutting down: exiting without waiting for work in flight');
      process.exit(1);
    }
    stopping = true;
    parts.logger.info({ signal }, 'shutting down');
    // Requests in flight are answered while the runtime still runs: a journaled message gets its
    // 2xx, a cancel its outcome. Only then does the runtime stop.
    parts.endLongPolls();
    drain(config.shutdownGraceMs)
      .then(({ cut }) => {
        if (cut) parts.logger.warn({ graceMs: config.shutdownGraceMs }, 'requests still in flight were cut at the end of the shutdown grace');
        return parts.close();
      })
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        parts.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// A file-size limit (`ulimit -f`) raises SIGXFSZ at the write that would pass it, and that signal's
// default is to kill the process. Handled, the write fails with EFBIG instead, which the store
// reports as a disk that refuses writes: requests answer 503 and work waits until it can write.
process.on('SIGXFSZ', () => undefined);

main().catch((err: unknown) => {
  process.stderr.write(`convoflow: failed to start: ${describeStartFailure(err, Boolean(process.env.MONGODB_URI))}\n`);
  process.exit(1);
});
