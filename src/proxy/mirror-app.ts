import { HttpCache, type WaitUntil } from '../cache/http-cache.ts';
import type { CacheStore } from '../cache/store.ts';
import type { MirrorConfig } from '../config/types.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { errorPage } from './error-page.ts';
import type { OriginFetch } from './origin-fetch.ts';
import { withHeaders } from './response-headers.ts';
import { createMirror } from './pipeline.ts';

/**
 * Everything a runtime adapter serves: the mirror's own endpoints under /_mirror/, then the cache,
 * then the pipeline. Adapters supply the origin fetch, the HTML engine and the cache store.
 */
export interface MirrorAppDeps {
  config: MirrorConfig;
  fetchOrigin: OriginFetch;
  html: HtmlEngine;
  store: CacheStore;
  /** Overrides cache.purgeToken (EDGEMIRROR_PURGE_TOKEN). */
  purgeToken?: string | null;
  now?: () => number;
}

export interface MirrorApp {
  fetch(request: Request, waitUntil?: WaitUntil): Promise<Response>;
  readonly cache: HttpCache;
}

export function createMirrorApp(deps: MirrorAppDeps): MirrorApp {
  const mirror = createMirror(deps);
  const cache = new HttpCache({
    config: deps.config.cache,
    store: deps.store,
    router: mirror.router,
    handle: mirror.handle,
    mirrorOriginOf: mirror.mirrorOriginOf,
    now: deps.now,
  });
  const purgeToken = deps.purgeToken || deps.config.cache.purgeToken;
  const { maxUrlBytes, robots } = deps.config.server;
  // Sent with every response: no MIME sniffing of rewritten bodies, no Referer naming the mirror to
  // third parties, and (by default) no search-engine indexing of a mirror that only copies a site.
  const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-robots-tag': robots || null };

  async function route(request: Request, waitUntil?: WaitUntil): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.length + url.search.length > maxUrlBytes) {
      return errorPage(414, 'URI Too Long', `Request targets are limited to ${maxUrlBytes} bytes.`);
    }
    if (url.pathname === '/_mirror/purge') return cache.purge(request, purgeToken);
    return cache.handle(request, waitUntil);
  }

  return {
    cache,
    async fetch(request, waitUntil) {
      return withHeaders(await route(request, waitUntil), securityHeaders);
    },
  };
}
