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
  },
});
