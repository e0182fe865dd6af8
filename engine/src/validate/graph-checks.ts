import type { FlowDefinition } from '../flow/types.js';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { isRecord, nodeSubject, readFlow, type FlowView, type NodeView } from './flow-view.js';
import type { GraphEdge } from './edge-checks.js';
import type { ResolvedNode } from './node-checks.js';
import { getParam } from './outputs.js';

/**
 * @internal
 * Graph checks, linear in nodes + connections: a first node exists, every node is reachable from
 * it (following connections and jumps), and every loop contains a node that waits (Tarjan's
 * strongly connected components, iterative so a long chain cannot overflow the stack).
 */
export function checkGraph(view: FlowView, resolved: Map<number, ResolvedNode>, edges: GraphEdge[], out: Diagnostic[]): void {
  // Nodes with a duplicate id are left out: connections cannot tell them apart.
  const nodes = view.nodes.filter((n) => n.id !== undefined && view.nodesById.get(n.id) === n);
  if (nodes.length === 0) {
    if (view.hasNoNodes) out.push(diagnostic('NO_ENTRY_NODE', '/nodes', 'The flow has no nodes yet: add a first node'));
    return;
  }
  const slot = new Map<NodeView, number>();
  nodes.forEach((n, i) => slot.set(n, i));
  const adjacency: number[][] = nodes.map(() => []);
  const targeted = new Uint8Array(nodes.length);
  for (const edge of edges) {
    const a = slot.get(edge.from);
    const b = slot.get(edge.to);
    if (a === undefined || b === undefined) continue;
    adjacency[a]!.push(b);
    targeted[b] = 1;
  }
  for (const [i, node] of nodes.entries()) {
    const r = resolved.get(node.index);
    if (r?.definition.manifest.kind !== 'jump') continue;
    const target = getParam(node.params, 'target');
    const to = typeof target === 'string' ? view.nodesById.get(target) : undefined;
    const b = to ? slot.get(to) : undefined;
    if (b !== undefined) adjacency[i]!.push(b);
  }

  const entry = targeted.indexOf(0);
  if (entry < 0) {
    out.push(
      diagnostic(
        'NO_ENTRY_NODE',
        '/nodes',
        'Every node has a connection leading into it, so the flow has no first node: remove the connection into the node the flow should start at (use a jump node to go back to it)',
      ),
    );
  } else {
    const seen = new Uint8Array(nodes.length);
    const stack = [entry];
    seen[entry] = 1;
    while (stack.length > 0) {
      for (const next of adjacency[stack.pop()!]!) {
        if (!seen[next]) {
          seen[next] = 1;
          stack.push(next);
        }
      }
    }
    const entryName = nodes[entry]!.name;
    nodes.forEach((node, i) => {
      if (seen[i]) return;
      out.push(
        diagnostic(
          'UNREACHABLE_NODE',
          node.path,
          `${nodeSubject(node)} can never run: no path from the first node ("${entryName}") leads to it`,
          { nodeId: node.id },
        ),
      );
    });
  }

  for (const component of stronglyConnected(adjacency)) {
    const isLoop = component.length > 1 || adjacency[component[0]!]!.includes(component[0]!);
    if (!isLoop) continue;
    const members = component.map((i) => nodes[i]!).sort((a, b) => a.index - b.index);
    // An unknown node type is already an error; do not pile a loop error on top of it.
    const waits = members.some((n) => {
      const kind = resolved.get(n.index)?.definition.manifest.kind;
      return kind === undefined || kind === 'wait';
    });
    if (waits) continue;
    const first = members[0]!;
    const message =
      members.length === 1
        ? `${nodeSubject(first)} leads back to itself without waiting: a run would go round forever. Add a wait (a message, a question or a delay) or break the loop`
        : `${nodeSubject(first)} is in a loop with ${quoteList(members.slice(1).map((n) => n.name))} in which no node waits: a run would go round forever. Add a wait (a message, a question or a delay) inside the loop`;
    out.push(diagnostic('LOOP_WITHOUT_WAIT', first.path, message, { nodeId: first.id }));
  }
}

const quoteList = (names: string[]): string => {
  const q = names.map((n) => `"${n}"`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} and ${q[q.length - 1]}`;
};

/** Tarjan's algorithm without recursion: the strongly connected components of a graph. */
function stronglyConnected(adjacency: number[][]): number[][] {
  const n = adjacency.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  const work: [node: number, nextChild: number][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    work.push([root, 0]);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const v = frame[0];
      if (frame[1] === 0 && index[v] === -1) {
        index[v] = low[v] = counter++;
        stack.push(v);
        onStack[v] = 1;
      }
      const children = adjacency[v]!;
      if (frame[1] < children.length) {
        const w = children[frame[1]++]!;
        if (index[w] === -1) work.push([w, 0]);
        else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        components.push(component);
      }
    }
  }
  return components;
}

/**
 * The id of the node a run starts at: the first node, in document order, that no connection leads
 * to. The validator's reachability check and the compiler agree through this function.
 *
 * Pure.
 *
 * @example
 * entryNodeId(flow) // 'welcome'
 */
export function entryNodeId(flow: Pick<FlowDefinition, 'nodes' | 'edges'>): string | undefined {
  const view = readFlow(isRecord(flow) ? { nodes: flow.nodes, edges: flow.edges } : {});
  const targeted = new Set<string>();
  for (const edge of view.edges) {
    if (edge.target !== undefined && edge.source !== undefined && view.nodesById.has(edge.source)) targeted.add(edge.target);
  }
  return view.nodes.find((n) => n.id !== undefined && view.nodesById.get(n.id) === n && !targeted.has(n.id))?.id;
}
