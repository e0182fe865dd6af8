import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/convoflow.js';
import type { CliIo } from '../src/cli/convoflow.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const sim = 'engine/test/fixtures/sim';
const fixtureCatalogue = 'engine/test/fixtures/nodes.ts';

/** Runs the command in this process, collecting what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd: repo };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Runs the command as a real process, the way `npm run convoflow` does. */
function spawnCli(...argv: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(join(repo, 'node_modules/.bin/tsx'), ['engine/src/cli/convoflow.ts', ...argv], { cwd: repo, encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('convoflow test (CLI)', () => {
  it('should exit 0 and print the report when every scenario passes', async () => {
    const { code, out } = await cli('test', `${sim}/signup.flow.json`, `${sim}/signup.pass.scenario.json`, '--catalogue', fixtureCatalogue);
    expect(code).toBe(0);
    expect(out).toContain('PASS  signs up and gets a customer number');
    expect(out).toContain('Path:    hello > ask > crm > thanks');
    expect(out).toContain('1 of 1 passed');
  });

  it('should exit 1 as a process and say why when a scenario fails', () => {
    const { code, out } = spawnCli('test', `${sim}/signup.flow.json`, `${sim}/signup.pass.scenario.json`, `${sim}/signup.fail.scenario.json`, `--catalogue=${fixtureCatalogue}`);
    expect(code).toBe(1);
    expect(out).toContain('FAIL  nudges after an hour');
    expect(out).toContain('1. at the end: sent[2]: expected "Are you still there?" but was "Still there?"');
    expect(out).toContain('1 of 2 failed');
  });

  it('should exit 2 as a process on a usage error', () => {
    const { code, err } = spawnCli('test', `${sim}/signup.flow.json`);
    expect(code).toBe(2);
    expect(err).toContain('needs a flow file and at least one scenario file');
    expect(err).toContain('Usage: convoflow test');
  });

  it('should exit 0 as a process, loading the built-in nodes from @convoflow/nodes by default', () => {
    const { code, out } = spawnCli('test', `${sim}/lead-capture.flow.json`, `${sim}/lead-capture.scenario.json`, `${sim}/lead-capture.timeout.scenario.json`);
    expect(out).toContain('2 of 2 passed');
    expect(code).toBe(0);
  });

  it('should exit 2 when a file is missing, is not JSON, or the catalogue module cannot be used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convoflow-cli-'));
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ "name": ');
    const noCatalogue = join(dir, 'empty.mjs');
    writeFileSync(noCatalogue, 'export const nothing = 1;\n');

    const missing = await cli('test', `${sim}/nope.flow.json`, `${sim}/signup.pass.scenario.json`, '--catalogue', fixtureCatalogue);
    expect(missing).toMatchObject({ code: 2, out: '' });
    expect(missing.err).toContain('cannot read engine/test/fixtures/sim/nope.flow.json: no such file');

    const broken = await cli('test', `${sim}/signup.flow.json`, notJson, '--catalogue', fixtureCatalogue);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain('is not valid JSON');

    const empty = await cli('test', `${sim}/signup.flow.json`, `${sim}/signup.pass.scenario.json`, '--catalogue', noCatalogue);
    expect(empty.code).toBe(2);
    expect(empty.err).toContain('exports no catalogue');

    const unknownModule = await cli('test', `${sim}/signup.flow.json`, `${sim}/signup.pass.scenario.json`, '--catalogue', '@convoflow/does-not-exist');
    expect(unknownModule.code).toBe(2);
    expect(unknownModule.err).toContain('cannot load catalogue module @convoflow/does-not-exist');
  });

  it('should exit 2 on unknown commands and options, and 0 with the usage for --help', async () => {
    expect((await cli()).code).toBe(2);
    expect(await cli('run', 'a.json', 'b.json')).toMatchObject({ code: 2, err: expect.stringContaining('Unknown command "run"') });
    expect(await cli('test', 'a.json', 'b.json', '--fast')).toMatchObject({ code: 2, err: expect.stringContaining('Unknown option --fast') });
    expect(await cli('test', 'a.json', 'b.json', '--catalogue')).toMatchObject({ code: 2, err: expect.stringContaining('--catalogue needs a module') });
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringContaining('Usage: convoflow test') });
  });

  it('should fail a scenario, not crash, when the scenario is malformed, and print JSON with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'convoflow-cli-'));
    const bad = join(dir, 'bad.scenario.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', steps: [{ advance: 'later' }] }));
    const result = await cli('test', `${sim}/signup.flow.json`, bad, '--catalogue', fixtureCatalogue, '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.out) as { passed: boolean; failures: string[] };
    expect(report.passed).toBe(false);
    expect(report.failures).toEqual(['scenario: steps[0].advance must be an ISO-8601 duration such as "PT1H", "P1D" or "PT30M", got "later"']);
  });
});
