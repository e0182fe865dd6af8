import { endNode, jumpNode } from '../src/index.js';
import { assertValidParams } from './support/behaviour.js';

describe('jump and end nodes', () => {
  it('should be handled by the engine: no outputs and no functions', () => {
    expect(jumpNode.behaviour).toEqual({ kind: 'jump' });
    expect(jumpNode.manifest.outputs).toEqual([]);
    expect(endNode.behaviour).toEqual({ kind: 'end' });
    expect(endNode.manifest.outputs).toEqual([]);
  });

  it('should require a jump target and accept an end without params', () => {
    expect(() => assertValidParams(jumpNode, { target: 'main_menu' })).not.toThrow();
    expect(() => assertValidParams(jumpNode, {})).toThrow(/target/);
    expect(() => assertValidParams(endNode, {})).not.toThrow();
    expect(() => assertValidParams(endNode, { reason: 'x' })).toThrow();
  });
});
