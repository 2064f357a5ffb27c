import { env as startupEnv } from 'cloudflare:workers';
import { Hono } from 'hono';
import type { MirrorConfig } from '../config/types.ts';
import { unhandledErrorPage } from '../proxy/error-page.ts';
import { createMirrorApp, type MirrorApp } from '../proxy/mirror-app.ts';
import { CacheApiStore } from './cache-api-store.ts';
import { configErrorPage, loadWorkerConfig, type WorkerEnv } from './config.ts';
import { createWorkerHtmlEngine } from './html-engine.ts';
import { createWorkerOriginFetch } from './origin-fetch.ts';
import { deliver } from './response.ts';

/**
 * The Cloudflare Workers entry: the same mirror app as the Node server (endpoints, cache, pipeline),
 * with the runtime's fetch() (or a TCP socket for an `upstream` on another host) and the HTML engine
 * named by server.htmlEngine (html-engine.ts). Responses leave as identity: Cloudflare compresses them
 * for the reader (gzip, br or zstd), so unlike Node there is no compression step here. Every response
 * goes out through deliver() (response.ts), which keeps a failed body visible to the reader.
 *
 * State (metrics, health, the coalescing table, the in-flight fill budget) is per isolate: Cloudflare
 * runs many isolates per data centre, so /_mirror/metrics and /_mirror/health describe one of them.
 */
export interface Env extends WorkerEnv {
  /** Overrides cache.purgeToken, like EDGEMIRROR_PURGE_TOKEN on Node (set it as a secret). */
  EDGEMIRROR_PURGE_TOKEN?: string;
}

const fetchOrigin = createWorkerOriginFetch();

// The config is checked when the isolate starts, not on the first request: an invalid one stops the
// Worker from starting (its problems are logged first), so `wrangler deploy`, `wrangler secret put`
// and `wrangler dev` fail with the problem list instead of a Worker that answers 500 after "Ready".
const startup = loadWorkerConfig(startupEnv as Env);
if (!startup.ok) {
  throw new Error(`edgemirror: invalid config ${startup.source}: ${startup.problems.length} problem(s), listed above; the Worker does not start`);
}
let current: { config: MirrorConfig; purgeToken: string | undefined; app: MirrorApp } | null = null;

function mirrorFor(env: Env): MirrorApp | Response {
  const loaded = loadWorkerConfig(env);
  if (!loaded.ok) return configErrorPage(loaded);
  const { config } = loaded;
  if (current?.config !== config || current.purgeToken !== env.EDGEMIRROR_PURGE_TOKEN) {
    const html = createWorkerHtmlEngine(config.server.htmlEngine);
    const store = new CacheApiStore(caches.default);
    // bodySize 'header': deliver() gives most bodies a Content-Length, and the access log needs no
    // second JS pass over the body (see mirror-app.ts).
    const app = createMirrorApp({
      config,
      fetchOrigin,
      html,
      store,
      purgeToken: env.EDGEMIRROR_PURGE_TOKEN ?? null,
      bodySize: 'header',
      // An isolate has 128 MB: cache fills in flight (each held whole until stored) share this much.
      fillBudgetBytes: WORKER_FILL_BUDGET,
    });
    current = { config, purgeToken: env.EDGEMIRROR_PURGE_TOKEN, app };
  }
  return current.app;
}

const app = new Hono<{ Bindings: Env }>();
const WORKER_FILL_BUDGET = 24 * 1024 * 1024;

app.all('*', async (c) => {
  const mirror = mirrorFor(c.env ?? {});
  if (mirror instanceof Response) return mirror;
  const ctx = c.executionCtx;
  const response = await mirror.fetch(c.req.raw, { waitUntil: (promise) => ctx.waitUntil(promise), clientIp: c.req.header('cf-connecting-ip') });
  return deliver(response, (err) => console.error(`[edgemirror] response body failed after the headers: ${(err as Error)?.message ?? err}`));
});
app.onError(unhandledErrorPage);

export default app;
