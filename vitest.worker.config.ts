import { readdirSync, readFileSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The integration suite against the Worker: the same test files as `vitest run`, with
 * EDGEMIRROR_TARGET=worker (tests/helpers/mirror.ts then starts the Worker bundle in workerd via
 * Miniflare), plus the Worker's own tests in tests/worker/. The bundle is built once per run, by
 * `wrangler deploy --dry-run` (tests/helpers/worker-global-setup.ts).
 *
 * An integration file that starts the Node server itself (it imports startNodeServer, e.g. tests of
 * the Node process or of its HTTP server) is Node-only and left out here; files that start the mirror
 * with startSetup/startProxy run on both targets.
 */
process.env.EDGEMIRROR_TARGET = 'worker';
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

const nodeOnly = readdirSync('tests/integration')
  .filter((name) => name.endsWith('.test.ts') && /\bstartNodeServer\b/.test(readFileSync(`tests/integration/${name}`, 'utf8')))
  .map((name) => `tests/integration/${name}`);

export default defineConfig({
  test: {
    globalSetup: ['tests/helpers/worker-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'worker',
          include: ['tests/integration/**/*.test.ts', 'tests/worker/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...nodeOnly],
        },
      },
      {
        // The same HTTP-level files with `upstream` kept in the config: the Worker reaches the origin
        // over its own HTTP/1.1-over-TCP client (src/worker/http1.ts) instead of fetch().
        extends: true,
        test: {
          name: 'worker-socket',
          include: ['tests/integration/{protocol,faults,streaming,charsets}.test.ts'],
          exclude: [...configDefaults.exclude, ...nodeOnly],
          env: { EDGEMIRROR_WORKER_ORIGIN: 'socket' },
        },
      },
      {
        // The page-level files again with server.htmlEngine "lol-html": the runtime's native
        // HTMLRewriter instead of the fast engine (the default), so both engines are held to the same
        // output on the Worker.
        extends: true,
        test: {
          name: 'worker-native',
          include: ['tests/integration/{article,documents,charsets,feeds}.test.ts'],
          exclude: [...configDefaults.exclude, ...nodeOnly],
          env: { EDGEMIRROR_HTML_ENGINE: 'lol-html' },
        },
      },
    ],
  },
});
