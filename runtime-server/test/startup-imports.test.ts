import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'runtime-server/src');
const MONGO_PACKAGES = ['mongoose', 'mongodb', '@agendajs/mongo-backend'];
/** Our workspace packages are followed into their sources. */
const WORKSPACE = /^@convoflow\/(engine|nodes)$/;
/** Static `import ... from '...'` and `export ... from '...'`; `import()` expressions are not matched. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm;

/** Files reached from `entry` through static imports (into our workspace packages too), and the packages they import. */
function staticGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (!spec) continue;
      const workspace = WORKSPACE.exec(spec)?.[1];
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (workspace) visit(join(ROOT, workspace, 'src/index.ts'));
      else packages.set(spec, file);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('what a server start loads', () => {
  it('should not load MongoDB modules when the server starts (they load only when MONGODB_URI picks them)', () => {
    const { files, packages } = staticGraph(join(SRC, 'server.ts'));
    // The walk reaches the store and the scheduler, so it would see a static import of MongoDB.
    expect([...files].some((f) => f.endsWith('storage/create-store.ts'))).toBe(true);
    expect([...files].some((f) => f.endsWith('scheduler/agenda-scheduler.ts'))).toBe(true);
    expect(packages.has('better-sqlite3')).toBe(true);
    const loaded = MONGO_PACKAGES.filter((p) => packages.has(p)).map((p) => `${p} (from ${packages.get(p)})`);
    expect(loaded).toEqual([]);
  });

  it('should load undici (the http_request node\'s pinned connections) only with the first guarded request', () => {
    const { files, packages } = staticGraph(join(SRC, 'server.ts'));
    expect([...files].some((f) => f.endsWith('http_request/perform-request.ts'))).toBe(true);
    expect(packages.get('undici')).toBeUndefined();
  });
});
