import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/system/ needs system packages and root (sudo, a second user): `npm run test:system`.
    exclude: ['test/system/**', 'node_modules/**'],
    // Integration tests start brokers, HTTP servers and child processes on loopback.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
  },
});
