#!/usr/bin/env -S npx tsx
/**
 * The `convoflow` command line: `convoflow test <flow.json> <scenario.json>... [--catalogue <module>] [--json]`.
 *
 * This is a tool, not the engine: it is the one place in engine/ that reads files and imports
 * modules at run time. It loads the flow and the scenarios, runs each scenario with `simulate`
 * and prints a readable report. Exit codes: 0 every scenario passed, 1 one failed, 2 usage or
 * I/O error.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCatalogue, formatReport, runScenario, validate } from '../index.js';
import type { Catalogue, FlowDefinition, NodeDefinition, SimulationReport } from '../index.js';

/** Where the command writes and from where it resolves relative paths. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
}

const USAGE = `Usage: convoflow test <flow.json> <scenario.json>... [--catalogue <module>]... [--json]

Runs each scenario against the flow and prints a report.
  --catalogue <module>  a module (path or package) exporting the node catalogue as \`catalogue\`,
                        \`builtinCatalogue\` or default export (a Catalogue or a list of node
                        definitions); repeat it to combine several. Default: @convoflow/nodes.
  --json                print the reports as JSON instead of text.
Exit codes: 0 all scenarios passed, 1 a scenario failed, 2 usage or I/O error.`;

/** A usage or I/O problem: reported on stderr with exit code 2. */
class UsageError extends Error {}

/**
 * Runs the command with its arguments (without `node` and the script).
 *
 * @returns the exit code.
 * @example
 * process.exitCode = await main(['test', 'flow.json', 'scenario.json']);
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args.help) {
      io.stdout(USAGE);
      return 0;
    }
    const flow = (await readJson(args.flow, io.cwd)) as FlowDefinition;
    const scenarios = await Promise.all(args.scenarios.map(async (file) => ({ file, scenario: await readJson(file, io.cwd) })));
    const catalogue = await loadCatalogue(args.catalogues, io.cwd);
    const reports: SimulationReport[] = scenarios.map(({ scenario }) => runScenario(flow, catalogue, scenario));
    if (args.json) {
      io.stdout(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
    } else {
      const diagnostics = validate(flow, catalogue);
      if (diagnostics.length > 0) {
        io.stdout(`Flow ${args.flow}: ${diagnostics.length} ${diagnostics.length === 1 ? 'diagnostic' : 'diagnostics'}`);
        for (const d of diagnostics) io.stdout(`  ${d.severity.padEnd(7)} ${d.code}  ${d.message}${d.nodeId ? ` (node ${d.nodeId})` : ''}`);
        io.stdout('');
      }
      reports.forEach((report, i) => {
        io.stdout(`${scenarios[i]?.file}`);
        io.stdout(formatReport(report));
        io.stdout('');
      });
      const failed = reports.filter((r) => !r.passed).length;
      io.stdout(failed === 0 ? `${reports.length} of ${reports.length} passed` : `${failed} of ${reports.length} failed`);
    }
    return reports.every((r) => r.passed) ? 0 : 1;
  } catch (err) {
    io.stderr(err instanceof UsageError ? err.message : `convoflow: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

interface Args {
  help: boolean;
  flow: string;
  scenarios: string[];
  catalogues: string[];
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const catalogues: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true, flow: '', scenarios: [], catalogues, json };
    if (arg === '--json') json = true;
    else if (arg === '--catalogue' || arg.startsWith('--catalogue=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value) throw new UsageError(`--catalogue needs a module\n\n${USAGE}`);
      catalogues.push(value);
    } else if (arg.startsWith('-')) throw new UsageError(`Unknown option ${arg}\n\n${USAGE}`);
    else positional.push(arg);
  }
  const [command, flow, ...scenarios] = positional;
  if (command !== 'test') throw new UsageError(command ? `Unknown command "${command}"\n\n${USAGE}` : USAGE);
  if (!flow || scenarios.length === 0) throw new UsageError(`convoflow test needs a flow file and at least one scenario file\n\n${USAGE}`);
  return { help: false, flow, scenarios, catalogues, json };
}

async function readJson(file: string, cwd: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    throw new UsageError(`convoflow: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`convoflow: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

async function loadCatalogue(modules: string[], cwd: string): Promise<Catalogue> {
  if (modules.length === 0) {
    const builtin = await importModule('@convoflow/nodes', cwd).catch((err: unknown) => {
      throw new UsageError(`convoflow: cannot load the built-in nodes (@convoflow/nodes): ${(err as Error).message}; pass --catalogue <module>`);
    });
    return catalogueOf(builtin, '@convoflow/nodes');
  }
  const definitions: NodeDefinition[] = [];
  for (const name of modules) {
    const loaded = await importModule(name, cwd).catch((err: unknown) => {
      throw new UsageError(`convoflow: cannot load catalogue module ${name}: ${(err as Error).message}`);
    });
    definitions.push(...catalogueOf(loaded, name).list());
  }
  return createCatalogue(definitions);
}

/** Imports a module by file path (relative to `cwd`) when such a file exists, else by package name. */
async function importModule(name: string, cwd: string): Promise<Record<string, unknown>> {
  const file = resolve(cwd, name);
  const isFile = await access(file).then(
    () => true,
    () => false,
  );
  return (await import(isFile ? pathToFileURL(file).href : name)) as Record<string, unknown>;
}

function catalogueOf(loaded: Record<string, unknown>, name: string): Catalogue {
  for (const key of ['catalogue', 'builtinCatalogue', 'default']) {
    const value = loaded[key];
    if (isCatalogue(value)) return value;
    if (Array.isArray(value) && value.every(isDefinition)) return createCatalogue(value);
  }
  throw new UsageError(`convoflow: ${name} exports no catalogue (expected \`catalogue\`, \`builtinCatalogue\` or a default export: a Catalogue or a list of node definitions)`);
}

function isCatalogue(value: unknown): value is Catalogue {
  return typeof value === 'object' && value !== null && typeof (value as Catalogue).get === 'function' && typeof (value as Catalogue).list === 'function';
}

function isDefinition(value: unknown): value is NodeDefinition {
  return typeof value === 'object' && value !== null && 'manifest' in value && 'behaviour' in value;
}

function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    cwd: process.cwd(),
  };
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
