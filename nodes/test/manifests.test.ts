import { CONDITION_RULE_ANCHOR, type JsonObject } from '@convoflow/engine';
import { builtinCatalogue, builtinNodes, createCatalogue, nodeOutputs } from '../src/index.js';
import { strictAjv } from './support/behaviour.js';

describe('built-in catalogue', () => {
  it('should hold every built-in node type at version 1, each once', () => {
    const types = builtinNodes.map((n) => n.manifest.type);
    expect(new Set(types).size).toBe(types.length);
    expect(types.sort()).toEqual([
      'ab_split',
      'ask_question',
      'condition',
      'delay',
      'end',
      'http_request',
      'jump',
      'log_conversion_event',
      'send_buttons',
      'send_media',
      'send_text',
      'set_variable',
      'switch',
      'wait_until',
    ]);
    for (const node of builtinNodes) expect(builtinCatalogue.get(node.manifest.type, 1)).toBe(node);
    expect(builtinCatalogue.get('send_text', 2)).toBeUndefined();
  });

  it('should compile every params schema under Ajv2020 strict mode in one Ajv instance', () => {
    const ajv = strictAjv();
    for (const node of builtinNodes) {
      expect(() => ajv.compile(node.manifest.params)).not.toThrow();
    }
  });

  it('should give every node a business-readable description, an icon and a category', () => {
    for (const { manifest } of builtinNodes) {
      expect(manifest.description.length).toBeGreaterThan(40);
      expect(manifest.description).not.toMatch(/executeNode|effect|snapshot|JSON/);
      expect(manifest.icon).toMatch(/^[a-z][a-z-]*$/);
      expect(manifest.category).toBeTruthy();
    }
  });

  it('should keep manifests plain JSON, so the designer can render from them alone', () => {
    for (const { manifest } of builtinNodes) expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
  });

  it('should give every wait for a reply a timeout output, and execute only to action nodes', () => {
    const waiting = builtinNodes.filter((n) => n.manifest.waitsForReply).map((n) => n.manifest.type);
    expect(waiting.sort()).toEqual(['ask_question', 'send_buttons']);
    for (const node of builtinNodes.filter((n) => n.manifest.waitsForReply)) {
      expect(nodeOutputs(node.manifest, {})).toContain('timeout');
    }
    const executing = builtinNodes.filter((n) => n.execute).map((n) => n.manifest.type);
    expect(executing.sort()).toEqual(['http_request', 'log_conversion_event']);
  });

  it('should mark the rule params with the condition rule anchor', () => {
    const condition = builtinCatalogue.get('condition', 1);
    const rules = (condition?.manifest.params.properties as JsonObject).rules as JsonObject;
    expect(rules.$dynamicAnchor).toBe(CONDITION_RULE_ANCHOR);
  });

  it('should let an embedder override a built-in with createCatalogue', () => {
    const custom = { ...builtinNodes[0]!, manifest: { ...builtinNodes[0]!.manifest, title: 'Say' } };
    const catalogue = createCatalogue([...builtinNodes, custom]);
    expect(catalogue.get(custom.manifest.type, 1)?.manifest.title).toBe('Say');
    expect(catalogue.list()).toHaveLength(builtinNodes.length);
  });
});
