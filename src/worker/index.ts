import { Hono } from 'hono';
import type { MirrorConfig } from '../config/types.ts';
import { errorPage } from '../proxy/error-page.ts';
import { createMirrorApp, type MirrorApp } from '../proxy/mirror-app.ts';
import { CacheApiStore } from './cache-api-store.ts';
import { configErrorPage, loadWorkerConfig, type WorkerEnv } from './config.ts';
import { NativeHtmlEngine } from './html-engine.ts';
import { createWorkerOriginFetch } from './origin-fetch.ts';

/**
 * The Cloudflare Workers entry: the same mirror app as the Node server (endpoints, cache, pipeline),
 * with the runtime's fetch() (or a TCP socket for an `upstream` on another host) and the native
 * HTMLRewriter. Responses leave as identity: Cloudflare compresses them for the reader (gzip, br or
 * zstd), so unlike Node there is no compression step here.
 */
export interface Env extends WorkerEnv {
  /** Overrides cache.purgeToken, like EDGEMIRROR_PURGE_TOKEN on Node (set it as a secret). */
  EDGEMIRROR_PURGE_TOKEN?: string;
}

const html = new NativeHtmlEngine();
const fetchOrigin = createWorkerOriginFetch();
let current: { config: MirrorConfig; purgeToken: string | undefined; app: MirrorApp } | null = null;

function mirrorFor(env: Env): MirrorApp | Response {
  const loaded = loadWorkerConfig(env, html);
  if (!loaded.ok) return configErrorPage(loaded);
  const { config } = loaded;
  if (current?.config !== config || current.purgeToken !== env.EDGEMIRROR_PURGE_TOKEN) {
    // The Cache API, fed by tee() (see cache-api-store.ts): no JS reads of the rewritten body, which
    // cost ~20 µs per piece of the native HTMLRewriter's output in workerd.
    const store = new CacheApiStore(caches.default);
    // bodySize 'header': nothing reads the rewritten body in JS on its way out (see mirror-app.ts).
    const app = createMirrorApp({ config, fetchOrigin, html, store, purgeToken: env.EDGEMIRROR_PURGE_TOKEN ?? null, bodySize: 'header' });
    current = { config, purgeToken: env.EDGEMIRROR_PURGE_TOKEN, app };
  }
  return current.app;
}

const app = new Hono<{ Bindings: Env }>();
app.all('*', (c) => {
  const mirror = mirrorFor(c.env ?? {});
  if (mirror instanceof Response) return mirror;
  const ctx = c.executionCtx;
  return mirror.fetch(c.req.raw, { waitUntil: (promise) => ctx.waitUntil(promise), clientIp: c.req.header('cf-connecting-ip') });
});
app.onError((err) => {
  console.error(`[edgemirror] unhandled error: ${err?.stack ?? err}`);
  return errorPage(500, 'Internal Error', 'The mirror failed to handle this request.');
});

export default app;
