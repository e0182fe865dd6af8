/**
 * @module @convoflow/engine
 *
 * The pure core of Convoflow: validate a flow, compile it to an XState machine, and step runs
 * through it. No I/O, no timers, no clock reads: time enters through events and every side effect
 * leaves as data.
 *
 * ```ts
 * const diagnostics = validate(flow, catalogue);
 * const compiled = compile(flow, catalogue);
 * let result = start(compiled, { runId, at: Date.now(), trigger, contact });
 * result = step(compiled, result.snapshot, messageReceived(message, Date.now()));
 * ```
 */
export type { JsonValue, JsonObject } from './json.js';
export type {
  ChannelId,
  TriggerType,
  FlowTrigger,
  FlowNode,
  FlowEdge,
  FlowVariable,
  VariableType,
  FlowSettings,
  WaitingRunExpiry,
  FlowDefinition,
} from './flow/types.js';
export { CHANNELS, TRIGGER_TYPES } from './flow/types.js';
export type { OutboundMessage, InboundMessage, MessageButton, MessageListRow } from './message.js';
export type {
  FlowEvent,
  MessageReceivedEvent,
  TimerFiredEvent,
  NodeCompletedEvent,
  NodeFailedEvent,
  RunCancelledEvent,
  RunAbortedEvent,
} from './events.js';
export { EVENT, messageReceived, timerFired, nodeCompleted, nodeFailed, runCancelled, runAborted } from './events.js';
export type { Effect, EffectRequest } from './effects.js';
export { EFFECT_TYPES, idempotencyKey } from './effects.js';
export type {
  JsonSchema,
  OutputsSpec,
  NodeKind,
  NodeManifest,
  StatePatch,
  TemplateScope,
  NodeScope,
  PureResult,
  WaitReaction,
  WaitState,
  NodeBehaviour,
  NodeDefinition,
  Catalogue,
} from './catalogue/types.js';
export { createCatalogue } from './catalogue/create-catalogue.js';
export { renderTemplate, checkTemplateSyntax, templateReferences, TemplateError } from './templates/render.js';
export { RUN_LIMITS, formatCount } from './limits.js';
export type { TemplateSyntaxProblem } from './templates/render.js';
export type { RunStatus, RunOutcome, RunInput, PathStep, RunSnapshot, RunWaiting, StepResult } from './run.js';
export type {
  ConditionRule,
  ConditionLeaf,
  ConditionAll,
  ConditionAny,
  ConditionNot,
  ConditionOperator,
  ConditionValueKind,
  EvaluateOptions,
} from './conditions/index.js';
export {
  evaluateCondition,
  conditionFields,
  conditionRuleSchema,
  conditionRuleRef,
  CONDITION_RULE_ANCHOR,
  CONDITION_OPERATORS,
  CONDITION_OPERATOR_INFO,
  MAX_PATTERN_LENGTH,
  MAX_CONDITION_DEPTH,
  ConditionError,
  readPath,
} from './conditions/index.js';
export { validate, assertValidFlow, sortDiagnostics, resolveOutputs, getParam, entryNodeId } from './validate/index.js';
export { flowSchema, nodeManifestSchema, messageSchema } from './validate/index.js';
export type { Diagnostic } from './validate/index.js';
export {
  ERROR_CODES,
  helpFor,
  ConvoflowError,
  FlowValidationError,
  NodeExecutionError,
  StorageError,
} from './errors.js';
export type { ErrorCode, ErrorCodeInfo, DiagnosticCode, Severity, ConvoflowErrorOptions } from './errors.js';
export { compile, DEFAULT_REPLY_TIMEOUT_MS } from './compile/compile.js';
export type { CompileOptions } from './compile/compile.js';
export type { CompiledFlow, CompiledNode, CompiledSettings } from './compile/compiled-flow.js';
export { FlowCompileError } from './compile/flow-compile-error.js';
export type { FlowCompileProblem } from './compile/flow-compile-error.js';
export { start, step } from './step.js';
export { simulate, runScenario, messageText } from './simulate/simulate.js';
export type { SimulationReport, SimulationStepLog } from './simulate/simulate.js';
export { checkScenario } from './simulate/scenario.js';
export type { Scenario, ScenarioStep, ScenarioExpectation, NodeMock } from './simulate/scenario.js';
export { formatReport } from './simulate/format-report.js';
export { retry, RetryError } from './retry.js';
export { ISO_DURATION_PATTERN, parseIsoDuration } from './internal/iso-duration.js';
export { compileUserPattern, matchesUserPattern, userPatternProblem, UserPatternError, MAX_USER_PATTERN_LENGTH } from './patterns/user-pattern.js';
export type { UserPattern } from './patterns/user-pattern.js';
export { cronProblem, isTimezone } from './schedule/schedule-checks.js';
