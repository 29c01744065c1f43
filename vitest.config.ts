import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores: two test files at a time, each with its own cluster on its own ports.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
