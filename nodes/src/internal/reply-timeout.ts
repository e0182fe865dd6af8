import type { NodeScope } from '@convoflow/engine';
import { NodeParamsError } from '../errors.js';
import { parseIsoDuration } from '@convoflow/engine';

/** The timer id every wait for a reply uses for its timeout. @internal */
export const REPLY_TIMEOUT_TIMER = 'reply_timeout';

/**
 * When a wait for a reply times out: `timeout` (an ISO duration) after entering, else the flow's
 * default reply timeout.
 *
 * Pure.
 *
 * @internal
 */
export function replyTimeoutAt(ctx: NodeScope<{ timeout?: string }>): number {
  const { timeout } = ctx.params;
  if (timeout === undefined || timeout === '') return ctx.now + ctx.defaults.replyTimeoutMs;
  const ms = parseIsoDuration(timeout);
  if (ms === undefined || ms <= 0) throw new NodeParamsError('timeout', `"${timeout}" is not a duration such as PT30M`);
  return ctx.now + ms;
}
