import { defineNode } from '../../define-node.js';

/** Params of `jump`. */
export interface JumpParams {
  target: string;
}

/** Jump: continues at another node of the flow (to loop back or reuse a part of the flow). */
export const jumpNode = defineNode<JumpParams>({
  type: 'jump',
  typeVersion: 1,
  kind: 'jump',
  category: 'flow',
  title: 'Jump to',
  description: 'Continues the conversation at another step of this flow, for example to go back to the main menu.',
  icon: 'corner-up-left',
  params: {
    type: 'object',
    properties: { target: { type: 'string', minLength: 1, description: 'The id of the node to continue at.' } },
    required: ['target'],
    additionalProperties: false,
  },
  outputs: [],
});
