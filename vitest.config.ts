import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The browser suite needs Chromium and runs on its own: npm run test:e2e (vitest.e2e.config.ts).
    // The Worker's own tests need its bundle and run with the worker target: npm run test:worker (vitest.worker.config.ts).
    exclude: [...configDefaults.exclude, 'tests/e2e/**', 'tests/worker/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers on ephemeral loopback ports; files run in parallel workers.
    pool: 'forks',
  },
});
