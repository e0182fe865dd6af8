import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowDefinition } from '@convoflow/engine';

/** The repository root and the folder of the example flows. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FLOWS_DIR = join(REPO_ROOT, 'examples', 'flows');

/** An example flow and the scenarios written for it. */
export interface ExampleFlow {
  name: string;
  file: string;
  flow: FlowDefinition;
  /** `<name>.scenario.json` and `<name>.<variant>.scenario.json`, sorted. */
  scenarios: Array<{ file: string; scenario: unknown }>;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8')) as unknown;

/** Every `examples/flows/*.flow.json` with its scenarios, read from disk. */
export function exampleFlows(): ExampleFlow[] {
  const files = readdirSync(FLOWS_DIR).sort();
  return files
    .filter((f) => f.endsWith('.flow.json'))
    .map((file) => {
      const name = file.slice(0, -'.flow.json'.length);
      const scenarios = files
        .filter((f) => f === `${name}.scenario.json` || (f.startsWith(`${name}.`) && f.endsWith('.scenario.json')))
        .map((f) => ({ file: join(FLOWS_DIR, f), scenario: readJson(join(FLOWS_DIR, f)) }));
      return { name, file: join(FLOWS_DIR, file), flow: readJson(join(FLOWS_DIR, file)) as FlowDefinition, scenarios };
    });
}
