import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/setup.ts'],
    environment: 'node',
    testTimeout: 60000,
    hookTimeout: 240000,
    fileParallelism: false,
  },
});
