import { HttpCache, type WaitUntil } from '../cache/http-cache.ts';
import { purgeEndpoint } from '../cache/purge-endpoint.ts';
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
import { isValidHost } from './site-router.ts';
import { presentedToken, tokenMatches } from './token.ts';
import { ConfigError, purgeTokenProblem } from '../config/validate.ts';

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
  /** Bytes all cache fills in flight may hold together (see HttpCacheOptions). */
  fillBudgetBytes?: number;
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
  /**
   * Contacts the origin of every site not contacted yet (a HEAD of its root through the pipeline), so
   * health says ok or degraded instead of unknown. One probe at a time; resolves when it is done.
   */
  probe(): Promise<void>;
}

export function createMirrorApp(deps: MirrorAppDeps): MirrorApp {
  const siteNames = deps.config.sites.map((s) => s.name);
  const observer = deps.observer ?? new Observer(siteNames);
  observer.configureHosts(deps.config.sites.flatMap((s) => s.hosts));
  const mirror = createMirror({ ...deps, observer });
  const cache = new HttpCache({
    config: deps.config.cache,
    store: deps.store,
    router: mirror.router,
    handle: mirror.handle,
    mirrorOriginOf: mirror.mirrorOriginOf,
    now: deps.now,
    fillBudgetBytes: deps.fillBudgetBytes,
  });
  const token = deps.purgeToken || deps.config.cache.purgeToken;
  const tokenProblem = deps.purgeToken ? purgeTokenProblem(deps.purgeToken, 'EDGEMIRROR_PURGE_TOKEN') : null;
  if (tokenProblem) throw new ConfigError([tokenProblem]);
  const cspReports = new CspReportEndpoint(observer);
  const siteConfigs = new Map(deps.config.sites.map((s) => [s.name, s]));
  const { maxUrlBytes, robots, logClientIp, logQuery } = deps.config.server;
  // Sent with every response: no MIME sniffing of rewritten bodies, no Referer naming the mirror to
  // third parties, and (by default) no search-engine indexing of a mirror that only copies a site.
  // An untyped origin response stays untyped and sniffable: with nosniff, browsers would refuse it as a
  // script or style sheet.
  const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-robots-tag': robots || null };
  const { 'x-content-type-options': _nosniff, ...untypedHeaders } = securityHeaders;

  /** Metrics and the status page: open when no token is configured, else the same token as purge. */
  function authorized(request: Request): boolean {
    return !token || tokenMatches(presentedToken(request, true), token);
  }


  let probing: Promise<void> | null = null;
  function probe(): Promise<void> {
    probing ??= (async () => {
      const pending = new Set(observer.unprobedSites());
      await Promise.all(
        mirror.router.sites
          .filter((site) => pending.has(site.config.name))
          .map(async (site) => {
            const host = probeHost(site.config.hosts);
            // Only through a host that reaches this very site (two sites may claim the same pattern).
            if (host === null || mirror.router.route(host) !== site) return;
            const response = await mirror.handle(new Request(`http://${host}/`, { method: 'HEAD' })).catch(() => null);
            await response?.body?.cancel().catch(() => {});
          }),
      );
    })().finally(() => {
      probing = null;
    });
    return probing;
  }

  async function endpoint(request: Request, url: URL, waitUntil?: WaitUntil): Promise<Response | null> {
    const path = url.pathname;
    if (path === '/_mirror/purge') return purgeEndpoint(request, token, { cache, router: mirror.router, mirrorOriginOf: mirror.mirrorOriginOf });
    if (path === SHIM_PATH) return shimResponse(request);
    if (path === CSP_REPORT_PATH) return cspReports.handle(request, mirror.router.route(request.headers.get('host')));
    if (path === '/_mirror/health') {
      // Never "ok" for an origin never reached: a site not contacted yet is probed first (waiting up to
      // 5 s; the probe goes on in the background after that, and health says "unknown" meanwhile).
      if (observer.unprobedSites().length) {
        const probing = probe();
        waitUntil?.(probing);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([probing, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        if (timer !== undefined) clearTimeout(timer);
      }
      // With a token set, only its holder sees the details (origin errors name the upstream address
      // and the URL that failed); everyone else, e.g. a load balancer, gets the status alone.
      const health = observer.health();
      const shown = authorized(request) ? health : { status: health.status };
      return Response.json(shown, { status: health.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' } });
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
    // Before anything uses the host (site choice, cache key, absolute mirror URLs in pages).
    const host = request.headers.get('host');
    if ((host !== null && !isValidHost(host)) || !isValidHost(url.host)) {
      return errorPage(400, 'Bad Request', 'The Host header is not a valid host name.');
    }
    if (url.pathname.length + url.search.length > maxUrlBytes) {
      return errorPage(414, 'URI Too Long', `Request targets are limited to ${maxUrlBytes} bytes.`);
    }
    if (trace.site === null && (url.pathname.startsWith('/_mirror/') || url.pathname === '/_mirror')) {
      const answer = await endpoint(request, url, waitUntil);
      if (answer) return answer;
    }
    return cache.handle(request, waitUntil, trace);
  }

  return {
    cache,
    observer,
    probe,
    async fetch(request, context = {}) {
      const started = Date.now();
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        // workerd builds the URL from the Host header: an unparsable one is the client's error.
        return withHeaders(errorPage(400, 'Bad Request', 'The request URL or Host header is not valid.'), securityHeaders);
      }
      // The mirror's own endpoints are not site traffic: logged, but not counted for a site.
      const internal = url.pathname === '/_mirror' || url.pathname.startsWith('/_mirror/');
      const host = request.headers.get('host');
      const trace: RequestTrace = { site: internal ? null : (mirror.router.route(host)?.config.name ?? null) };
      if (context.clientIp) mirror.clients.set(request.signal, context.clientIp);
      const routed = await route(request, url, trace, context.waitUntil);
      const response = withCspHeaders(withHeaders(routed, routed.headers.has('content-type') ? securityHeaders : untypedHeaders), siteConfigs.get(trace.site ?? ''));
      const done = (bytes: number) =>
        observer.requestDone({
          host: host === null ? null : host.slice(0, 255),
          site: trace.site,
          method: request.method,
          path: url.pathname + logSearch(url.search, logQuery),
          status: response.status,
          cache: response.headers.get('x-cache'),
          originStatus: trace.originStatus ?? null,
          originMs: trace.originMs ?? null,
          bytes,
          ms: Date.now() - started,
          ...(trace.error !== undefined ? { error: trace.error } : {}),
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

/**
 * The query string as logged: readers' searches are not the operator's business, so by default each
 * value is replaced by "REDACTED" (names kept); "full" keeps them. A `token` is never logged.
 */
export function logSearch(search: string, mode: 'redact' | 'full'): string {
  if (search.length <= 1) return search;
  const parts = search.slice(1).split('&');
  return (
    '?' +
    parts
      .map((part) => {
        const eq = part.indexOf('=');
        const name = eq < 0 ? part : part.slice(0, eq);
        if (eq < 0 || eq === part.length - 1) return part;
        return mode === 'full' && name.toLowerCase() !== 'token' ? part : `${name}=REDACTED`;
      })
      .join('&')
  );
}

/** A host name that routes to a site with these patterns: the first exact one, else one under a wildcard. */
function probeHost(hosts: string[]): string | null {
  const exact = hosts.find((h) => !h.startsWith('*'));
  if (exact) return exact;
  const wildcard = hosts.find((h) => h.startsWith('*.'));
  if (wildcard) return `probe${wildcard.slice(1)}`;
  return hosts.includes('*') ? 'probe.invalid' : null;
}
