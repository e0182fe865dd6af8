import type { JsonObject } from '@convoflow/engine';
import type { NodeExecutionContext, NodeLogLevel } from '../../src/index.js';

/** A real execution context (global fetch), recording log lines for assertions. */
export function executionContext(
  options: { allowPrivateNetwork?: boolean; signal?: AbortSignal } = {},
): NodeExecutionContext & { logs: Array<{ level: NodeLogLevel; msg: string; data?: JsonObject }> } {
  const logs: Array<{ level: NodeLogLevel; msg: string; data?: JsonObject }> = [];
  return {
    runId: 'run-1',
    nodeId: 'node_1',
    idempotencyKey: 'run-1:7',
    fetch: globalThis.fetch,
    log: (level, msg, data) => logs.push(data ? { level, msg, data } : { level, msg }),
    signal: options.signal ?? new AbortController().signal,
    config: { allowPrivateNetwork: options.allowPrivateNetwork ?? false },
    logs,
  };
}
