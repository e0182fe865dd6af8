import { diagnostic, type Diagnostic } from './diagnostic.js';
import { nodeSubject, type FlowView, type NodeView } from './flow-view.js';
import type { ResolvedNode } from './node-checks.js';

/** @internal A connection between two existing nodes. */
export interface GraphEdge {
  from: NodeView;
  to: NodeView;
}

/**
 * @internal
 * Connection checks: duplicate ids, both ends exist, the output exists on the source node and is
 * wired once, and every wait for a reply has its `timeout` output wired. Returns the connections
 * whose two ends exist, for the graph checks.
 */
export function checkEdges(view: FlowView, resolved: Map<number, ResolvedNode>, out: Diagnostic[]): GraphEdge[] {
  const seenIds = new Set<string>();
  const wired = new Set<string>();
  const graph: GraphEdge[] = [];
  for (const edge of view.edges) {
    const edgeName = edge.id !== undefined ? `Connection "${edge.id}"` : `Connection #${edge.index + 1}`
    const from = edge.source !== undefined ? view.nodesById.get(edge.source) : undefined;
    const to = edge.target !== undefined ? view.nodesById.get(edge.target) : undefined;
    if (edge.id !== undefined) {
      if (seenIds.has(edge.id)) {
        const origin = from ? ` (from node "${from.name}")` : '';
        out.push(
          diagnostic('DUPLICATE_EDGE_ID', `${edge.path}/id`, `${edgeName}${origin} has the same id as another connection`, {
            nodeId: from?.id,
            edgeId: edge.id,
          }),
        );
      }
      seenIds.add(edge.id);
    }
    if (edge.source !== undefined && !from) {
      const into = to ? ` into node "${to.name}"` : '';
      out.push(
        diagnostic('EDGE_SOURCE_MISSING', `${edge.path}/source`, `${edgeName}${into} starts at "${edge.source}", a node that does not exist`, {
          nodeId: to?.id,
          edgeId: edge.id,
        }),
      );
    }
    if (edge.target !== undefined && !to) {
      const origin = from ? ` from node "${from.name}"` : '';
      out.push(
        diagnostic('EDGE_TARGET_MISSING', `${edge.path}/target`, `${edgeName}${origin} leads to "${edge.target}", a node that does not exist`, {
          nodeId: from?.id,
          edgeId: edge.id,
        }),
      );
    }
    if (from && edge.sourceOutput !== undefined) {
      const source = resolved.get(from.index);
      if (source && !source.outputs.has(edge.sourceOutput)) {
        const offered = [...source.outputs].map((o) => `"${o}"`).join(', ') || 'none';
        out.push(
          diagnostic(
            'UNKNOWN_OUTPUT',
            `${edge.path}/sourceOutput`,
            `${nodeSubject(from)} has no output "${edge.sourceOutput}" (its outputs: ${offered}): delete or reconnect ${edgeName.replace(/^C/, 'c')}`,
            { nodeId: from.id, edgeId: edge.id },
          ),
        );
      }
      const key = `${edge.source}\u0000${edge.sourceOutput}`;
      if (wired.has(key)) {
        out.push(
          diagnostic(
            'OUTPUT_WIRED_TWICE',
            edge.path,
            `The output "${edge.sourceOutput}" of node "${from.name}" is connected more than once: an output leads to exactly one next node`,
            { nodeId: from.id, edgeId: edge.id },
          ),
        );
      }
      wired.add(key);
    }
    if (from && to) graph.push({ from, to });
  }
  for (const node of resolved.values()) {
    if (!node.definition.manifest.waitsForReply || node.view.id === undefined) continue;
    if (view.nodesById.get(node.view.id) !== node.view) continue; // duplicate id, already reported
    if (!wired.has(`${node.view.id}\u0000timeout`)) {
      out.push(
        diagnostic(
          'REPLY_TIMEOUT_NOT_WIRED',
          node.view.path,
          `The output "timeout" of node "${node.view.name}" is not connected: the run would stop silently when the contact does not answer`,
          { nodeId: node.view.id },
        ),
      );
    }
  }
  return graph;
}
