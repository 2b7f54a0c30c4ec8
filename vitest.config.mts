import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/install/ packs and installs the package with prebuilt addons: vitest.install.config.mts, after npm run prebuild
    exclude: [...configDefaults.exclude, 'test/install/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Native models use real threads; one test file at a time keeps the 2-core machine honest.
    fileParallelism: false,
    globalSetup: ['test/setup/global.ts'],
  },
});
