import type { Catalogue } from './catalogue/types.js';
import type { FlowDefinition } from './flow/types.js';
import type { RunSnapshot, StepResult } from './run.js';
import { compile } from './compile/compile.js';
import { FINAL } from './compile/compiled-flow.js';
import type { RunContext } from './compile/run-context.js';
import { start } from './step.js';

/** Why a run cannot be retried. */
export class RetryError extends Error {
  readonly code = 'RUN_NOT_RETRYABLE';
  constructor(message: string) {
    super(message);
    this.name = 'RetryError';
  }
}

/**
 * Retries a failed run from the node that failed: enters that node again with the variables,
 * node data and effect counter the run had, so the retried node's effects get new idempotency
 * keys. The result's snapshot is stepped afterwards with the flow's ordinary compiled machine.
 *
 * Pure: no I/O; does not execute effects. Time comes from `at`.
 *
 * @throws RetryError when the snapshot is not of a failed run or does not say which node failed.
 * @example
 * const result = retry(flow, catalogue, failedRun.snapshot, Date.now());
 */
export function retry(flow: FlowDefinition, catalogue: Catalogue, snapshot: RunSnapshot, at: number): StepResult {
  const { value, context } = snapshot as { value?: unknown; context?: RunContext };
  if (value !== FINAL.failed || !context) throw new RetryError('Only a failed run can be retried');
  const nodeId = context.error?.nodeId;
  if (!nodeId || !flow.nodes.some((n) => n.id === nodeId)) {
    throw new RetryError('The run failed outside any node of its flow, so there is no node to retry from');
  }
  const compiled = compile(flow, catalogue, { startNodeId: nodeId });
  return start(compiled, {
    runId: context.runId,
    at,
    trigger: context.trigger,
    contact: context.contact,
    resume: { startedAt: context.startedAt, vars: context.vars, nodes: context.nodes, seq: context.seq, visits: context.visits },
  });
}
