import { defineConfig } from 'vitest/config';

/**
 * Unit tests of pure code, which start no server and no process: they share their workers' module
 * graph (no isolation between files): core/, schemas/ and bot/ took 446 s instead of 116 s on a
 * loaded 2-core machine, sdk/ 12.5 s instead of 6.5 s, most of it importing the same modules again
 * for every file. The SDK's tests against ZooKeeper live in test/sdk.
 */
const SHARED_MODULES = ['core/**/*.test.ts', 'schemas/**/*.test.ts', 'bot/**/*.test.ts', 'sdk/**/*.test.ts'];

export default defineConfig({
  test: {
    exclude: ['node_modules/**', 'dist/**', 'example-config-repo/**'],
    // Integration tests start real ZooKeeper servers (JVMs) and git servers: give them room,
    // and keep the number of JVMs running at once within what a 2-core machine can carry.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: SHARED_MODULES,
          isolate: false,
          globalSetup: ['./test/temp-root.ts', './test/github-openapi-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', 'example-config-repo/**', ...SHARED_MODULES],
          // Compiles the `cairn` that tests run as processes once, rather than at every process start.
          globalSetup: ['./test/temp-root.ts', './test/github-openapi-setup.ts', './test/global-setup.ts'],
        },
      },
    ],
  },
});
