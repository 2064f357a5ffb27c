import { HttpCache, type WaitUntil } from '../cache/http-cache.ts';
import type { CacheStore } from '../cache/store.ts';
import type { MirrorConfig } from '../config/types.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import type { OriginFetch } from './origin-fetch.ts';
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
  return {
    cache,
    async fetch(request, waitUntil) {
      const path = new URL(request.url).pathname;
      if (path === '/_mirror/purge') return cache.purge(request, purgeToken);
      return cache.handle(request, waitUntil);
    },
  };
}
