import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that need a system package (mosquitto) run in `npm run test:interop` (vitest.interop.config.ts),
    // so `npm test` passes on a machine set up by `npm ci` alone.
    exclude: ['**/node_modules/**', 'test/**/*.interop.test.ts'],
    // Integration tests start brokers, HTTP servers and child processes on loopback.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
  },
});
