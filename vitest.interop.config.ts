import { defineConfig } from 'vitest/config';

// `npm run test:interop`: the transports against a second, independent broker (Debian's mosquitto,
// plain and with TLS client certificates). Needs `apt-get install mosquitto openssl`; .ci/run installs them.
export default defineConfig({
  test: {
    include: ['test/**/*.interop.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
