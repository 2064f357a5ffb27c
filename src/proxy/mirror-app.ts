import { HttpCache, type WaitUntil } from '../cache/http-cache.ts';
import type { CacheStore } from '../cache/store.ts';
import type { MirrorConfig } from '../config/types.ts';
import { Observer, type RequestTrace } from '../observe/observer.ts';
import { statusPage } from '../observe/status-page.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { SHIM_PATH, shimResponse } from '../client/shim-file.ts';
import { CspReportEndpoint, withCspHeaders } from './csp-report.ts';
import { CSP_REPORT_PATH } from '../rewrite/csp.ts';
import { errorPage } from './error-page.ts';
import { onStreamEnd } from './limits.ts';
import type { OriginFetch } from './origin-fetch.ts';
import { createMirror } from './pipeline.ts';
import { withHeaders } from './response-headers.ts';
import { presentedToken, tokenMatches } from './token.ts';

/**
 * Everything a runtime adapter serves: the mirror's own endpoints under /_mirror/ (purge, health,
 * metrics, status page), then the cache, then the pipeline. Adapters supply the origin fetch, the HTML
 * engine, the cache store and, optionally, the observer (which receives the access log).
 */
export interface MirrorAppDeps {
  config: MirrorConfig;
  fetchOrigin: OriginFetch;
  html: HtmlEngine;
  store: CacheStore;
  observer?: Observer;
  /** Overrides cache.purgeToken (EDGEMIRROR_PURGE_TOKEN); also protects metrics and the status page. */
  purgeToken?: string | null;
  now?: () => number;
  /**
   * How the access log learns a response's size: 'stream' (default) counts the bytes as they go out
   * and logs at the end; 'header' logs as the response starts, with its Content-Length (0 if none).
   * Workers use 'header': a JS pass-through on the native HTMLRewriter's output costs ~20 µs per
   * rewritten element there (a 32 MB page: 4 s → 28 s, and memory well past the isolate's 128 MB).
   */
  bodySize?: 'stream' | 'header';
}

export interface RequestContext {
  /** Keeps background work (refreshes, cache stores) alive after the response: Workers' ctx.waitUntil. */
  waitUntil?: WaitUntil;
  /** The reader's address: logged only when server.logClientIp is on; never sent anywhere. */
  clientIp?: string;
}

export interface MirrorApp {
  fetch(request: Request, context?: RequestContext): Promise<Response>;
  readonly cache: HttpCache;
  readonly observer: Observer;
}

export function createMirrorApp(deps: MirrorAppDeps): MirrorApp {
  const siteNames = deps.config.sites.map((s) => s.name);
  const observer = deps.observer ?? new Observer(siteNames);
  const mirror = createMirror({ ...deps, observer });
  const cache = new HttpCache({
    config: deps.config.cache,
    store: deps.store,
    router: mirror.router,
    handle: mirror.handle,
    mirrorOriginOf: mirror.mirrorOriginOf,
    now: deps.now,
  });
  const token = deps.purgeToken || deps.config.cache.purgeToken;
  const cspReports = new CspReportEndpoint(observer);
  const siteConfigs = new Map(deps.config.sites.map((s) => [s.name, s]));
  const { maxUrlBytes, robots, logClientIp } = deps.config.server;
  // Sent with every response: no MIME sniffing of rewritten bodies, no Referer naming the mirror to
  // third parties, and (by default) no search-engine indexing of a mirror that only copies a site.
  const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-robots-tag': robots || null };

  /** Metrics and the status page: open when no token is configured, else the same token as purge. */
  function authorized(request: Request): boolean {
    return !token || tokenMatches(presentedToken(request, true), token);
  }


  async function endpoint(request: Request, url: URL): Promise<Response | null> {
    const path = url.pathname;
    if (path === '/_mirror/purge') return cache.purge(request, token);
    if (path === SHIM_PATH) return shimResponse(request);
    if (path === CSP_REPORT_PATH) return cspReports.handle(request, mirror.router.route(request.headers.get('host')));
    if (path === '/_mirror/health') {
      const health = observer.health();
      return Response.json(health, { status: health.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
    }
    if (path === '/_mirror/metrics' || path === '/_mirror/' || path === '/_mirror') {
      if (!authorized(request)) {
        return new Response('token required (Authorization: Bearer …, or ?token=…)\n', { status: 401, headers: { 'www-authenticate': 'Bearer', 'cache-control': 'no-store' } });
      }
      const stats = deps.store.stats();
      if (path === '/_mirror/metrics') {
        return new Response(observer.metrics({ cache: stats }), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' } });
      }
      return new Response(statusPage(observer, siteNames, stats), { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
    }
    return null;
  }

  async function route(request: Request, url: URL, trace: RequestTrace, waitUntil?: WaitUntil): Promise<Response> {
    if (url.pathname.length + url.search.length > maxUrlBytes) {
      return errorPage(414, 'URI Too Long', `Request targets are limited to ${maxUrlBytes} bytes.`);
    }
    if (trace.site === null && (url.pathname.startsWith('/_mirror/') || url.pathname === '/_mirror')) {
      const answer = await endpoint(request, url);
      if (answer) return answer;
    }
    return cache.handle(request, waitUntil, trace);
  }

  return {
    cache,
    observer,
    async fetch(request, context = {}) {
      const started = Date.now();
      const url = new URL(request.url);
      // The mirror's own endpoints are not site traffic: logged, but not counted for a site.
      const internal = url.pathname === '/_mirror' || url.pathname.startsWith('/_mirror/');
      const trace: RequestTrace = { site: internal ? null : (mirror.router.route(request.headers.get('host'))?.config.name ?? null) };
      const response = withCspHeaders(withHeaders(await route(request, url, trace, context.waitUntil), securityHeaders), siteConfigs.get(trace.site ?? ''));
      const done = (bytes: number) =>
        observer.requestDone({
          site: trace.site,
          method: request.method,
          path: url.pathname + url.search,
          status: response.status,
          cache: response.headers.get('x-cache'),
          originStatus: trace.originStatus ?? null,
          originMs: trace.originMs ?? null,
          bytes,
          ms: Date.now() - started,
          ...(logClientIp && context.clientIp ? { ip: context.clientIp } : {}),
        });
      if (!response.body) {
        done(0);
        return response;
      }
      if (deps.bodySize === 'header') {
        done(Number(response.headers.get('content-length')) || 0);
        return response;
      }
      // Logged once the body has gone out (or the reader left), with the bytes sent.
      return new Response(onStreamEnd(response.body, done), response);
    },
  };
}
