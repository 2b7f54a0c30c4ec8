import { defineConfig } from 'vitest/config';

// The install test (test/install/): packs the package and installs the tarball into a fresh app with every compiler
// shimmed, then encodes on each libtorch the prebuilt addons are for. It needs `npm run prebuild` first (and
// .venv-cuda from `npm run setup:cuda`), so `npm test` leaves it out; .ci/run runs it after the prebuild:
//   npx vitest run --config vitest.install.config.mts
export default defineConfig({
  test: {
    include: ['test/install/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // the shared random-weight checkpoints (.fixtures/checkpoints/), as for npm test
    globalSetup: ['test/setup/global.ts'],
  },
});
