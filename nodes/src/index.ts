/**
 * @module @convoflow/nodes
 *
 * The node SDK and the built-in node catalogue. A node is a serialisable manifest (type, version,
 * JSON Schema of its params, named outputs) plus a pure behaviour the engine runs inside its step
 * and, for nodes that do I/O, an `execute(ctx, params)` the runtime runs for their `executeNode`
 * effects.
 *
 * ```ts
 * import { builtinNodes, createCatalogue, actionNode } from '@convoflow/nodes';
 *
 * const crmLookup = actionNode<{ email: string }>({
 *   type: 'acme.crm_lookup', typeVersion: 1, category: 'integration', title: 'Find customer',
 *   description: 'Looks the contact up in the CRM.', icon: 'search',
 *   params: { type: 'object', properties: { email: { type: 'string', format: 'template' } }, required: ['email'] },
 *   outputs: ['found', 'not_found', 'error'], failureOutput: 'error',
 *   execute: async (ctx, { email }) => {
 *     const res = await ctx.fetch(`https://crm.example.com/find?email=${encodeURIComponent(email)}`, { signal: ctx.signal });
 *     return res.ok ? { output: 'found', data: await res.json() } : { output: 'not_found' };
 *   },
 * });
 * const catalogue = createCatalogue([...builtinNodes, crmLookup]);
 * ```
 */
export { createCatalogue } from '@convoflow/engine';
export type { NodeDefinition, NodeManifest, NodeScope, WaitReaction, WaitState, PureResult, Catalogue } from '@convoflow/engine';

export { defineNode } from './define-node.js';
export type {
  NodeSpec,
  PureNodeSpec,
  WaitNodeSpec,
  StructuralNodeSpec,
  ExecutableNodeDefinition,
  NodeExecutionContext,
  NodeExecute,
  NodeResult,
  NodeLogLevel,
} from './types.js';
export { NodeDefinitionError, NodeParamsError } from './errors.js';

export { actionNode } from './helpers/action-node.js';
export type { ActionNodeSpec } from './helpers/action-node.js';
export { sendNode } from './helpers/send-node.js';
export type { SendNodeSpec } from './helpers/send-node.js';
export { SEND_OUTPUTS, sendOutcome } from './helpers/send-outcome.js';
export type { SendOutcome } from './helpers/send-outcome.js';
export { nodeOutputs } from './helpers/outputs.js';
export { ISO_DURATION_PATTERN, parseIsoDuration } from '@convoflow/engine';

export { createNodeScope, createWaitState, TEST_NOW } from './testing/create-node-scope.js';
export type { NodeScopeOptions } from './testing/create-node-scope.js';

export { builtinNodes, builtinCatalogue } from './builtin-nodes.js';
export { conditionNode } from './catalogue/condition/condition.node.js';
export type { ConditionParams } from './catalogue/condition/condition.node.js';
export { switchNode } from './catalogue/switch/switch.node.js';
export type { SwitchParams, SwitchCase } from './catalogue/switch/switch.node.js';
export { setVariableNode } from './catalogue/set_variable/set_variable.node.js';
export type { SetVariableParams, Assignment } from './catalogue/set_variable/set_variable.node.js';
export { abSplitNode } from './catalogue/ab_split/ab_split.node.js';
export type { AbSplitParams, SplitBranch } from './catalogue/ab_split/ab_split.node.js';
export { jumpNode } from './catalogue/jump/jump.node.js';
export type { JumpParams } from './catalogue/jump/jump.node.js';
export { endNode } from './catalogue/end/end.node.js';
export { delayNode } from './catalogue/delay/delay.node.js';
export type { DelayParams } from './catalogue/delay/delay.node.js';
export { waitUntilNode } from './catalogue/wait_until/wait_until.node.js';
export type { WaitUntilParams } from './catalogue/wait_until/wait_until.node.js';
export type { BusinessHours } from './catalogue/wait_until/business-hours.js';
export { sendTextNode } from './catalogue/send_text/send_text.node.js';
export type { SendTextParams } from './catalogue/send_text/send_text.node.js';
export { sendMediaNode } from './catalogue/send_media/send_media.node.js';
export type { SendMediaParams } from './catalogue/send_media/send_media.node.js';
export { sendButtonsNode } from './catalogue/send_buttons/send_buttons.node.js';
export type { SendButtonsParams } from './catalogue/send_buttons/send_buttons.node.js';
export { askQuestionNode } from './catalogue/ask_question/ask_question.node.js';
export type { AskQuestionParams } from './catalogue/ask_question/ask_question.node.js';
export type { AnswerType } from './catalogue/ask_question/parse-answer.js';
export { httpRequestNode, createHttpRequestNode } from './catalogue/http_request/http_request.node.js';
export type { HttpRequestParams } from './catalogue/http_request/http_request.node.js';
export { isBlockedAddress } from './catalogue/http_request/address-guard.js';
export type { AddressGuardOptions, ResolveHost } from './catalogue/http_request/address-guard.js';
export { HTTP_LIMITS } from './catalogue/http_request/perform-request.js';
export { logConversionEventNode } from './catalogue/log_conversion_event/log_conversion_event.node.js';
export type { LogConversionEventParams } from './catalogue/log_conversion_event/log_conversion_event.node.js';
