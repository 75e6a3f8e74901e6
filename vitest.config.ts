import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real loopback servers and child processes; the machines are shared and slow.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // vitest's default is one file at a time per core less one: on a 2-core machine, one file at a time. Much of
    // the suite waits (slow pages, leases expiring, child processes starting), so two files at once there took
    // the whole suite from 304 to 211 s (Node 20, quiet machine), with every test passing; more cores keep
    // vitest's own figure.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
