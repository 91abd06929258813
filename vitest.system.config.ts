import { defineConfig } from 'vitest/config';

// `npm run test:system`: tests that need system packages and root (sudo + visudo, an unprivileged
// user to run the agent as). .ci/run installs sudo and runs this after `npm test`.
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // One agent, one sudoers file at a time.
    fileParallelism: false,
  },
});
