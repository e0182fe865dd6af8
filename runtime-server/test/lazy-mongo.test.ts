import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const MONGO_PACKAGES = ['mongoose', 'mongodb', '@agendajs/mongo-backend'];
/** Static `import ... from '...'` and `export ... from '...'`; `import()` expressions are not matched. */
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm;

/** Files reached from `entry` through static imports inside runtime-server/src, and the packages they import. */
function staticGraph(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      if (!spec) continue;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.set(spec, file);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the SQLite default', () => {
  it('should not load MongoDB modules when the server starts (they load only when MONGODB_URI picks them)', () => {
    const { files, packages } = staticGraph(join(SRC, 'server.ts'));
    // The walk reaches the store and the scheduler, so it would see a static import of MongoDB.
    expect([...files].some((f) => f.endsWith('storage/create-store.ts'))).toBe(true);
    expect([...files].some((f) => f.endsWith('scheduler/agenda-scheduler.ts'))).toBe(true);
    expect(packages.has('better-sqlite3')).toBe(true);
    const loaded = MONGO_PACKAGES.filter((p) => packages.has(p)).map((p) => `${p} (from ${packages.get(p)})`);
    expect(loaded).toEqual([]);
  });
});
