import { createCatalogue } from '@convoflow/engine';
import type { ExecutableNodeDefinition } from './types.js';
import { conditionNode } from './catalogue/condition/condition.node.js';
import { switchNode } from './catalogue/switch/switch.node.js';
import { setVariableNode } from './catalogue/set_variable/set_variable.node.js';
import { abSplitNode } from './catalogue/ab_split/ab_split.node.js';
import { jumpNode } from './catalogue/jump/jump.node.js';
import { endNode } from './catalogue/end/end.node.js';
import { delayNode } from './catalogue/delay/delay.node.js';
import { waitUntilNode } from './catalogue/wait_until/wait_until.node.js';
import { sendTextNode } from './catalogue/send_text/send_text.node.js';
import { sendMediaNode } from './catalogue/send_media/send_media.node.js';
import { sendButtonsNode } from './catalogue/send_buttons/send_buttons.node.js';
import { askQuestionNode } from './catalogue/ask_question/ask_question.node.js';
import { httpRequestNode } from './catalogue/http_request/http_request.node.js';
import { logConversionEventNode } from './catalogue/log_conversion_event/log_conversion_event.node.js';

/** Every built-in node type, in the order the designer's palette lists them. */
export const builtinNodes: readonly ExecutableNodeDefinition[] = [
  sendTextNode,
  sendMediaNode,
  sendButtonsNode,
  askQuestionNode,
  conditionNode,
  switchNode,
  abSplitNode,
  setVariableNode,
  delayNode,
  waitUntilNode,
  httpRequestNode,
  logConversionEventNode,
  jumpNode,
  endNode,
];

/**
 * The built-in catalogue. To add or override node types, build your own:
 * `createCatalogue([...builtinNodes, ...myNodes])` (a later definition of the same type and
 * version wins).
 */
export const builtinCatalogue = createCatalogue(builtinNodes);
