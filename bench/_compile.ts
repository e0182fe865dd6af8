import { compile } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';
import { benchFlow } from './support/flows.js';
const cat = builtinCatalogue;
const flows = Array.from({ length: 2000 }, (_, i) => benchFlow(`k${i}`));
for (let i = 0; i < 200; i++) compile(flows[i]!, cat);
global.gc?.();
const h0 = process.memoryUsage().heapUsed;
const t = performance.now();
const kept = flows.map((f) => compile(f, cat));
const ms = performance.now() - t;
global.gc?.();
const h1 = process.memoryUsage().heapUsed;
console.log('compile per flow', (ms / kept.length).toFixed(3), 'ms; heap per compiled', ((h1 - h0) / kept.length / 1024).toFixed(1), 'KB', kept.length);
import type { FlowDefinition } from '@convoflow/engine';
function chain(n: number, salt: number): FlowDefinition {
  const b = benchFlow(`c${salt}`);
  const nodes = Array.from({ length: n - 2 }, (_, i) => ({ id: `s${i}`, type: 'set_variable', typeVersion: 1, label: `s${i}`, position: { x: i * 200, y: 0 }, params: { assignments: [{ variable: 'b', value: `x-{{vars.a}}-${i}` }] } }));
  const edges = nodes.slice(1).map((nd, i) => ({ id: `e${i}`, source: `s${i}`, sourceOutput: 'next', target: nd.id }));
  return { ...b, nodes: [...nodes, b.nodes[8]!, b.nodes[9]!], edges: [...edges, { id: 'last', source: `s${n - 3}`, sourceOutput: 'next', target: 'reply' }, ...b.edges.filter((e) => e.source === 'reply')] };
}
global.gc?.();
const g0 = process.memoryUsage().heapUsed;
const t2 = performance.now();
const big = Array.from({ length: 20 }, (_, i) => compile(chain(1000, i), cat));
const ms2 = performance.now() - t2;
global.gc?.();
console.log('1000-node: compile', (ms2 / 20).toFixed(1), 'ms; heap per compiled', ((process.memoryUsage().heapUsed - g0) / 20 / 1024).toFixed(0), 'KB', big.length, JSON.stringify(chain(1000, 1)).length, 'chars JSON');
console.log('10-node JSON chars', JSON.stringify(flows[0]).length);
