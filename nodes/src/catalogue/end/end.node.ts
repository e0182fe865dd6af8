import { defineNode } from '../../define-node.js';

/** End: finishes the run. */
export const endNode = defineNode<Record<string, never>>({
  type: 'end',
  typeVersion: 1,
  kind: 'end',
  category: 'flow',
  title: 'End',
  description: 'Ends the flow for this contact. Nothing after it runs.',
  icon: 'square',
  params: { type: 'object', properties: {}, additionalProperties: false },
  outputs: [],
});
