import { defineConfig } from 'vitest/config';

/**
 * Browser suite (npm run test:e2e): headless Chromium against the mirror, see tests/e2e/harness.ts.
 * EDGEMIRROR_TARGET=worker (npm run test:e2e:worker) runs the same tests against the Worker bundle in
 * workerd, built once by the global setup the Worker integration suite uses.
 */
const worker = process.env.EDGEMIRROR_TARGET === 'worker';
if (worker) {
  process.env.WRANGLER_SEND_METRICS = 'false';
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
}

export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    globalSetup: worker ? ['tests/helpers/worker-global-setup.ts'] : [],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One browser per file; two files at a time keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
