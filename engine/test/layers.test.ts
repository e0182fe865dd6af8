import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Every TypeScript source of the engine except the CLI, which is a tool that reads files. */
function engineSources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return relative(SRC, path) === 'cli' ? [] : engineSources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const withoutComments = (code: string): string => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

// The engine is pure: no I/O, no clock, no randomness, no timers, and nothing from the layers above.
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from ['"]node:|import\(['"]node:|require\(/, 'a Node built-in module (I/O)'],
  [/\bDate\.now\(|new Date\(\)/, 'a clock read (time comes in events)'],
  [/\bMath\.random\(/, 'randomness (use the deterministic random of the node scope)'],
  [/\b(setTimeout|setInterval|setImmediate)\(/, 'a timer (timers are effects)'],
  [/\bprocess\./, 'the process object'],
  [/from ['"](express|mongoose|better-sqlite3|agenda|pino)['"]/, 'a runtime dependency'],
  [/from ['"]@convoflow\/(nodes|runtime-server|designer)/, 'a layer above the engine'],
];

describe('the engine layer', () => {
  const files = engineSources();

  it('should have sources to check', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('should do no I/O, read no clock, draw no random numbers and import nothing above it', () => {
    const offences = files.flatMap((file) => {
      const code = withoutComments(readFileSync(file, 'utf8'));
      return FORBIDDEN.filter(([pattern]) => pattern.test(code)).map(([, what]) => `${relative(SRC, file)}: ${what}`);
    });
    expect(offences).toEqual([]);
  });

  it('should catch an offence when one is there', () => {
    const sample = withoutComments("import { readFile } from 'node:fs';\n// Date.now() in a comment is fine\nconst t = Date.now();");
    expect(FORBIDDEN.filter(([p]) => p.test(sample)).map(([, what]) => what)).toEqual([
      'a Node built-in module (I/O)',
      'a clock read (time comes in events)',
    ]);
  });
});
