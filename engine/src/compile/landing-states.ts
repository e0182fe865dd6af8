import type { CompiledNode } from './compiled-flow.js';

/**
 * For every node, the wait nodes a reaction leaving it can come to rest in: pure, jump and end
 * nodes resolve inside the reaction that reaches them, so a node's `always` transitions must lead
 * past them to the next wait node. Finals are not included.
 *
 * Cycles of pure nodes are handled as strongly connected components (Tarjan), so the cost is
 * linear in nodes and edges plus the size of the sets.
 *
 * Pure.
 *
 * @internal
 * @returns for each node key, the wait-node state keys reachable through its outputs.
 */
export function landingStates(nodesByKey: ReadonlyMap<string, CompiledNode>): Map<string, Set<string>> {
  const successors = (cn: CompiledNode): string[] => {
    const out = [...cn.routes.values()];
    if (cn.jumpTo) out.push(cn.jumpTo);
    return out.filter((key) => nodesByKey.has(key));
  };
  const isWait = (key: string): boolean => nodesByKey.get(key)?.definition.behaviour.kind === 'wait';

  // Tarjan over the non-wait nodes, iteratively so a long chain cannot overflow the stack.
  const landing = new Map<string, Set<string>>();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  let counter = 0;

  for (const root of nodesByKey.keys()) {
    if (isWait(root) || index.has(root)) continue;
    const work: Array<{ key: string; next: string[]; i: number }> = [];
    const open = (key: string): void => {
      index.set(key, counter);
      low.set(key, counter);
      counter++;
      stack.push(key);
      onStack.add(key);
      work.push({ key, next: successors(nodesByKey.get(key) as CompiledNode), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { key: string; next: string[]; i: number };
      if (frame.i < frame.next.length) {
        const succ = frame.next[frame.i++] as string;
        if (isWait(succ)) continue;
        if (!index.has(succ)) open(succ);
        else if (onStack.has(succ)) low.set(frame.key, Math.min(low.get(frame.key) as number, index.get(succ) as number));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.key, Math.min(low.get(parent.key) as number, low.get(frame.key) as number));
      if (low.get(frame.key) !== index.get(frame.key)) continue;
      // frame.key is the root of a component: pop it, and give every member the same set.
      const members: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        members.push(member);
      } while (member !== frame.key);
      const memberSet = new Set(members);
      const set = new Set<string>();
      for (const key of members) {
        for (const succ of successors(nodesByKey.get(key) as CompiledNode)) {
          if (isWait(succ)) set.add(succ);
          else if (!memberSet.has(succ)) for (const target of landing.get(succ) ?? []) set.add(target);
        }
      }
      for (const key of members) landing.set(key, set);
    }
  }

  for (const [key, cn] of nodesByKey) {
    if (!isWait(key)) continue;
    const set = new Set<string>();
    for (const succ of successors(cn)) {
      if (isWait(succ)) set.add(succ);
      else for (const target of landing.get(succ) ?? []) set.add(target);
    }
    landing.set(key, set);
  }
  return landing;
}
