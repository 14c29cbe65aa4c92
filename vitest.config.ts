import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'example-config-repo/**'],
    // Integration tests start real ZooKeeper servers (JVMs) and git servers: give them room,
    // and keep the number of JVMs running at once within what a 2-core machine can carry.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
    // Compiles the `cairn` that tests run as processes once, rather than at every process start.
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
  },
});
