import type { Config } from 'jest';

// One ESM setup for every package: agenda 6 and langchain are ESM-only, so the whole suite runs as
// native ESM under `node --experimental-vm-modules` rather than working around it per test.
const esmTs = {
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleNameMapper: {
    '^@convoflow/(engine|nodes|runtime-server|designer)$': '<rootDir>/../$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.tsx?$': [
      'ts-jest',
      // Type checking is done once for the whole tree by `npm run typecheck`; per-file checking in
      // jest would repeat it for every test file.
      { useESM: true, tsconfig: '<rootDir>/../tsconfig.json' },
    ],
  },
  testEnvironment: 'node',
} satisfies Config['projects'] extends (infer P)[] | undefined ? Exclude<P, string> : never;

const project = (name: string, extra: Record<string, unknown> = {}) => ({
  ...esmTs,
  displayName: name,
  rootDir: `<rootDir>/${name}`,
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  ...extra,
});

const config: Config = {
  projects: [project('engine'), project('nodes'), project('runtime-server'), project('examples')],
  testTimeout: 30_000,
};

export default config;
