import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Native models use real threads; one test file at a time keeps the 2-core machine honest.
    fileParallelism: false,
    globalSetup: ['test/setup/global.ts'],
  },
});
