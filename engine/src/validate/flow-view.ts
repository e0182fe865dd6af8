import type { JsonObject } from '../json.js';

/** @internal A node as far as it could be read from an untrusted document. */
export interface NodeView {
  index: number;
  path: string;
  /** The id when it is a string. */
  id: string | undefined;
  /** How messages name the node: its label, else its id, else its position in the list. */
  name: string;
  type: string | undefined;
  typeVersion: number | undefined;
  params: JsonObject | undefined;
}

/** @internal A connection as far as it could be read. */
export interface EdgeView {
  index: number;
  path: string;
  id: string | undefined;
  source: string | undefined;
  sourceOutput: string | undefined;
  target: string | undefined;
}

/** @internal A declared variable as far as it could be read. */
export interface VariableView {
  index: number;
  path: string;
  name: string | undefined;
}

/**
 * @internal
 * A tolerant reading of a flow document of unknown shape: whatever is not what it should be is
 * left out, so the semantic checks never throw on garbage (the schema check reports it).
 */
export interface FlowView {
  isObject: boolean;
  hasTriggersArray: boolean;
  /** True when `nodes` is an array with no items (a new, empty flow). */
  hasNoNodes: boolean;
  triggerCount: number;
  nodes: NodeView[];
  edges: EdgeView[];
  variables: VariableView[];
  channels: string[];
  /** First node per id (duplicates are reported, later ones ignored by the graph checks). */
  nodesById: Map<string, NodeView>;
}

/** @internal Plain-object check that rejects arrays and null. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** @internal Reads an untrusted flow document into a `FlowView`. Never throws on plain data. */
export function readFlow(flow: unknown): FlowView {
  const root = isRecord(flow) ? flow : {};
  const nodes: NodeView[] = [];
  const nodesById = new Map<string, NodeView>();
  arr(root.nodes).forEach((raw, index) => {
    if (!isRecord(raw)) return;
    const id = str(raw.id);
    const label = str(raw.label)?.trim();
    const view: NodeView = {
      index,
      path: `/nodes/${index}`,
      id,
      name: label || id || `#${index + 1}`,
      type: str(raw.type),
      typeVersion: typeof raw.typeVersion === 'number' ? raw.typeVersion : undefined,
      params: isRecord(raw.params) ? (raw.params as JsonObject) : undefined,
    };
    nodes.push(view);
    if (id !== undefined && !nodesById.has(id)) nodesById.set(id, view);
  });
  const edges: EdgeView[] = [];
  arr(root.edges).forEach((raw, index) => {
    if (!isRecord(raw)) return;
    edges.push({
      index,
      path: `/edges/${index}`,
      id: str(raw.id),
      source: str(raw.source),
      sourceOutput: str(raw.sourceOutput),
      target: str(raw.target),
    });
  });
  const variables: VariableView[] = [];
  arr(root.variables).forEach((raw, index) => {
    if (isRecord(raw)) variables.push({ index, path: `/variables/${index}`, name: str(raw.name) });
  });
  const settings = isRecord(root.settings) ? root.settings : {};
  return {
    isObject: isRecord(flow),
    hasTriggersArray: Array.isArray(root.triggers),
    hasNoNodes: Array.isArray(root.nodes) && root.nodes.length === 0,
    triggerCount: arr(root.triggers).length,
    nodes,
    edges,
    variables,
    channels: arr(settings.channels).filter((c): c is string => typeof c === 'string'),
    nodesById,
  };
}

/** @internal `Node "Ask email"`: how every message refers to a node. */
export const nodeSubject = (node: { name: string }): string => `Node "${node.name}"`;
