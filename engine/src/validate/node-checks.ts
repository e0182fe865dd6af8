import type { Catalogue, NodeDefinition } from '../catalogue/types.js';
import { diagnostic, type Diagnostic } from './diagnostic.js';
import { nodeSubject, type FlowView, type NodeView } from './flow-view.js';
import { getParam, resolveOutputs } from './outputs.js';
import { paramsValidator } from './params-validator.js';
import { translateAjvErrors } from './schema-errors.js';
import { channelNames } from './channel-names.js';

/** @internal A node whose type and version the catalogue knows, with its outputs. */
export interface ResolvedNode {
  view: NodeView;
  definition: NodeDefinition;
  outputs: Set<string>;
}

/**
 * @internal
 * Per-node checks: duplicate ids, type and version known, deprecation, params against the
 * manifest's schema (template syntax included), channel support, jump targets and duplicate
 * outputs. Returns the nodes it could resolve, keyed by list index, for the edge and graph checks.
 */
export function checkNodes(
  flow: unknown,
  view: FlowView,
  catalogue: Catalogue,
  out: Diagnostic[],
): Map<number, ResolvedNode> {
  const versionsByType = new Map<string, number[]>();
  for (const def of catalogue.list()) {
    const list = versionsByType.get(def.manifest.type) ?? [];
    list.push(def.manifest.typeVersion);
    versionsByType.set(def.manifest.type, list);
  }
  const resolved = new Map<number, ResolvedNode>();
  const seenIds = new Set<string>();
  for (const node of view.nodes) {
    const refs = { nodeId: node.id };
    if (node.id !== undefined) {
      if (seenIds.has(node.id)) {
        out.push(
          diagnostic('DUPLICATE_NODE_ID', `${node.path}/id`, `${nodeSubject(node)} has the id "${node.id}", which another node already uses`, refs),
        );
      }
      seenIds.add(node.id);
    }
    if (node.type === undefined || node.typeVersion === undefined || !Number.isInteger(node.typeVersion)) continue;
    const definition = catalogue.get(node.type, node.typeVersion);
    const versions = versionsByType.get(node.type);
    if (!definition) {
      if (!versions) {
        out.push(
          diagnostic('UNKNOWN_NODE_TYPE', `${node.path}/type`, `${nodeSubject(node)} has the type "${node.type}", which this workspace does not know`, refs),
        );
      } else {
        const known = [...versions].sort((a, b) => a - b).join(', ');
        out.push(
          diagnostic(
            'UNKNOWN_NODE_VERSION',
            `${node.path}/typeVersion`,
            `${nodeSubject(node)} uses version ${node.typeVersion} of "${node.type}", which is not installed (available: ${known})`,
            refs,
          ),
        );
      }
      continue;
    }
    const manifest = definition.manifest;
    if (manifest.deprecated) {
      const latest = Math.max(...(versions ?? [manifest.typeVersion]));
      const advice = latest > manifest.typeVersion ? `: replace it with version ${latest}` : '';
      out.push(
        diagnostic(
          'DEPRECATED_NODE_VERSION',
          `${node.path}/typeVersion`,
          `${nodeSubject(node)} uses version ${manifest.typeVersion} of "${manifest.title}", which is deprecated${advice}`,
          refs,
        ),
      );
    }
    if (node.params) checkParams(flow, view, node, definition, out);
    if (manifest.channels) {
      const supported = new Set<string>(manifest.channels);
      const missing = view.channels.filter((c) => !supported.has(c));
      if (missing.length > 0) {
        out.push(
          diagnostic(
            'CHANNEL_UNSUPPORTED',
            node.path,
            `${nodeSubject(node)} ("${manifest.title}") cannot be shown on ${channelNames(missing)}, which this flow runs on`,
            refs,
          ),
        );
      }
    }
    if (manifest.kind === 'jump') {
      const target = getParam(node.params, 'target');
      if (typeof target !== 'string' || target === '' || !view.nodesById.has(target)) {
        const what = typeof target === 'string' && target !== '' ? `to "${target}", a node that does not exist` : 'to no node';
        out.push(diagnostic('JUMP_TARGET_MISSING', `${node.path}/params/target`, `${nodeSubject(node)} jumps ${what}: pick the node to continue at`, refs));
      }
    }
    const outputs = resolveOutputs(manifest, node.params ?? {});
    const unique = new Set<string>();
    for (const output of outputs) {
      if (unique.has(output)) {
        out.push(
          diagnostic('DUPLICATE_OUTPUT', `${node.path}/params`, `${nodeSubject(node)} offers the output "${output}" twice: give each item its own id`, refs),
        );
      }
      unique.add(output);
    }
    resolved.set(node.index, { view: node, definition, outputs: unique });
  }
  return resolved;
}

function checkParams(flow: unknown, view: FlowView, node: NodeView, definition: NodeDefinition, out: Diagnostic[]): void {
  const validator = paramsValidator(definition.manifest);
  if (!validator.ok) {
    out.push(
      diagnostic(
        'NODE_MANIFEST_INVALID',
        `${node.path}/type`,
        `${nodeSubject(node)}: the settings of "${definition.manifest.title}" cannot be checked because its manifest is broken (${validator.reason})`,
        { nodeId: node.id },
      ),
    );
    return;
  }
  if (validator.validate(node.params)) return;
  out.push(...translateAjvErrors(validator.validate.errors ?? [], flow, view, { kind: 'params', base: `${node.path}/params` }));
}
