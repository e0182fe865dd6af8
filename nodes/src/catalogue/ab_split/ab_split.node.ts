import { defineNode } from '../../define-node.js';

/** One path of an `ab_split`, taken with probability weight / sum of weights. */
export interface SplitBranch {
  id: string;
  weight: number;
}

/** Params of `ab_split`. */
export interface AbSplitParams {
  branches: SplitBranch[];
}

/**
 * A/B split: sends each contact down one branch at random, in proportion to the weights. Pure
 * and deterministic: it draws from `ctx.random` (derived from run, node and visit), so replaying
 * a run takes the same branch. Records `nodes.<id>.branch`.
 */
export const abSplitNode = defineNode<AbSplitParams>({
  type: 'ab_split',
  typeVersion: 1,
  kind: 'pure',
  category: 'logic',
  title: 'A/B split',
  description:
    'Splits contacts at random between paths by percentage (for example 50/50), to compare two messages or offers.',
  icon: 'shuffle',
  params: {
    type: 'object',
    properties: {
      branches: {
        type: 'array',
        minItems: 2,
        maxItems: 10,
        items: {
          type: 'object',
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
            weight: { type: 'number', minimum: 0, maximum: 1_000_000 },
          },
          required: ['id', 'weight'],
          additionalProperties: false,
        },
      },
    },
    required: ['branches'],
    additionalProperties: false,
  },
  outputs: { fixed: [], fromParam: { param: 'branches', key: 'id' } },
  resolve: ({ params, random }) => {
    const { branches } = params;
    const total = branches.reduce((sum, b) => sum + Math.max(0, b.weight), 0);
    // All weights zero: split evenly rather than always taking the first branch.
    const weightOf = (b: SplitBranch): number => (total > 0 ? Math.max(0, b.weight) : 1);
    let pick = random * (total > 0 ? total : branches.length);
    // Rounding can leave `pick` a hair above zero after the last branch: fall back to the last
    // branch that can be chosen at all.
    let chosen = [...branches].reverse().find((b) => weightOf(b) > 0);
    for (const branch of branches) {
      pick -= weightOf(branch);
      if (pick < 0 && weightOf(branch) > 0) {
        chosen = branch;
        break;
      }
    }
    if (!chosen) throw new Error('ab_split has no branches');
    return { output: chosen.id, data: { branch: chosen.id } };
  },
});
