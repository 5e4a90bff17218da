import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 30000,
    hookTimeout: 120000,
    // The files share two Gatehouse servers; keeping them in one worker keeps timing-sensitive
    // expiry tests away from CPU contention.
    fileParallelism: false,
  },
});
