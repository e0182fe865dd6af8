import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { compile, cronProblem, formatReport, isTimezone, simulate, validate, type Scenario } from '@convoflow/engine';
import { builtinCatalogue } from '@convoflow/nodes';
import { exampleFlows, FLOWS_DIR, REPO_ROOT } from './support/example-files.js';
import { replay } from './support/replay.js';

const examples = exampleFlows();
const schema = (name: string): object => JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', name), 'utf8')) as object;

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// flow.schema.json's own formats, as a reader of the schema registers them.
ajv.addFormat('cron', { type: 'string', validate: (s: string) => cronProblem(s) === undefined });
ajv.addFormat('timezone', { type: 'string', validate: isTimezone });
const validFlowDocument = ajv.compile(schema('flow.schema.json'));
const validScenarioDocument = ajv.compile(schema('scenario.schema.json'));

describe('example flows', () => {
  it('should include the four documented examples, each with a scenario', () => {
    expect(examples.map((e) => e.name)).toEqual(
      expect.arrayContaining(['delay-follow-up', 'lead-qualification', 'order-status', 'welcome-buttons']),
    );
    for (const example of examples) expect(example.scenarios.length).toBeGreaterThanOrEqual(2);
  });

  describe.each(examples.map((e) => [e.name, e] as const))('%s', (_name, example) => {
    it('should be valid against schemas/flow.schema.json', () => {
      const valid = validFlowDocument(example.flow);
      expect(validFlowDocument.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    it('should pass validate() with no errors and no warnings', () => {
      expect(validate(example.flow, builtinCatalogue)).toEqual([]);
    });

    it('should compile', () => {
      const compiled = compile(example.flow, builtinCatalogue);
      expect(compiled.nodes.size).toBe(example.flow.nodes.length);
    });

    it('should declare every variable it writes and only channels a business would use together', () => {
      const declared = new Set(example.flow.variables.map((v) => v.name));
      const text = JSON.stringify(example.flow.nodes);
      for (const [, name] of text.matchAll(/vars\.([A-Za-z_][A-Za-z0-9_]*)/g)) expect(declared).toContain(name);
      expect(example.flow.settings.channels.length).toBeGreaterThan(0);
      expect(example.flow.settings.channels).not.toContain('simulator');
    });

    it('should lay its nodes out left to right without two nodes on one spot', () => {
      const spots = new Set(example.flow.nodes.map((n) => `${n.position.x},${n.position.y}`));
      expect(spots.size).toBe(example.flow.nodes.length);
      const x = new Map(example.flow.nodes.map((n) => [n.id, n.position.x]));
      for (const edge of example.flow.edges) {
        const target = example.flow.nodes.find((n) => n.id === edge.target);
        // Jumps go back by design; every other connection points rightwards.
        if (target?.type !== 'jump' && example.flow.nodes.find((n) => n.id === edge.source)?.type !== 'jump') {
          expect([edge.id, (x.get(edge.target) ?? 0) > (x.get(edge.source) ?? 0)]).toEqual([edge.id, true]);
        }
      }
    });

    describe.each(example.scenarios.map((s) => [relative(FLOWS_DIR, s.file), s] as const))('%s', (_file, { scenario }) => {
      it('should be valid against schemas/scenario.schema.json', () => {
        const valid = validScenarioDocument(scenario);
        expect(validScenarioDocument.errors ?? []).toEqual([]);
        expect(valid).toBe(true);
      });

      it('should pass under simulate()', () => {
        const report = simulate(example.flow, builtinCatalogue, scenario as Scenario);
        if (!report.passed) console.error(formatReport(report));
        expect(report.failures).toEqual([]);
        expect(report.passed).toBe(true);
      });

      it('should run identically when the snapshot goes through JSON before every step', () => {
        const straight = replay(example.flow, builtinCatalogue, scenario as Scenario, false);
        const restored = replay(example.flow, builtinCatalogue, scenario as Scenario, true);
        expect(restored.restores).toBeGreaterThan(0);
        expect(restored.sent).toEqual(straight.sent);
        expect(restored.path).toEqual(straight.path);
        expect(restored.vars).toEqual(straight.vars);
        expect(restored.status).toBe(straight.status);
        // And the direct replay agrees with the simulator.
        const report = simulate(example.flow, builtinCatalogue, scenario as Scenario);
        expect(straight.sent).toEqual(report.sent);
        expect(straight.path).toEqual(report.path);
        expect(straight.vars).toEqual(report.vars);
      });
    });
  });
});

/** Runs `npm run convoflow -- <args>` from the repository root; resolves with the exit code and output. */
function convoflow(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'convoflow', '--', ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('convoflow test (CLI) on an example', () => {
  const flow = join(FLOWS_DIR, 'order-status.flow.json');
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'convoflow-examples-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should exit 0 for a passing scenario', async () => {
    const { code, output } = await convoflow(['test', flow, join(FLOWS_DIR, 'order-status.scenario.json')]);
    expect([code, output]).toEqual([0, expect.any(String)]);
  }, 60_000);

  it('should exit 1 for a scenario whose expectation is not met', async () => {
    const scenario = JSON.parse(readFileSync(join(FLOWS_DIR, 'order-status.scenario.json'), 'utf8')) as Scenario;
    const broken: Scenario = { ...scenario, name: 'expects the wrong status', expect: { ...scenario.expect, vars: { order_status: 'delivered' } } };
    const file = join(dir, 'broken.scenario.json');
    writeFileSync(file, JSON.stringify(broken));
    const { code, output } = await convoflow(['test', flow, file]);
    expect(code).toBe(1);
    expect(output).toContain('order_status');
  }, 60_000);
});
