import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that need a system package run in their own scripts, so `npm test` passes on a machine set
    // up by `npm ci` alone: mosquitto in `npm run test:interop` (vitest.interop.config.ts), sudo and a
    // second user in `npm run test:system` (vitest.system.config.ts, test/system/).
    exclude: ['**/node_modules/**', 'test/**/*.interop.test.ts', 'test/system/**'],
    // Integration tests start brokers, HTTP servers and child processes on loopback.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // Test helpers build IoT clients of their own; the SDK's Node 22 notice is noise in test output.
    // CLI child processes get a clean environment and are asserted to print no warning themselves.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
