import type { MirrorConfig } from '../config/types.ts';
import type { DocContext } from '../mapping/url-mapper.ts';
import { canonicalCharset, CharsetSniffer, charsetFromContentType, xmlDeclaredCharset } from '../rewrite/charset.ts';
import { createCssStreamRewriter } from '../rewrite/css.ts';
import { rewriteFeed } from '../rewrite/feed.ts';
import { mirrorResponseHeaders, originRequestHeaders } from '../rewrite/headers.ts';
import { concatBytes } from '../http/bytes.ts';
import { NULL_BODY_STATUS } from '../http/status.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { registerHtmlRules } from '../rewrite/html-rules.ts';
import { dropUtf8Bom, peek, prependChunks, rewriteTextStream, stringStream, tokenBoundedRewriter, type TextRewriter } from '../rewrite/streams.ts';
import { errorPage } from './error-page.ts';
import { isMirrorError, OriginTimeoutError, PayloadTooLargeError, statusForError, type Phase } from '../http/errors.ts';
import { bytesStream, onStreamEnd, readAhead, readRequestBody, Slots } from './limits.ts';
import type { OriginFetch, OriginResponse } from './origin-fetch.ts';
import type { Observer, RequestTrace } from '../observe/observer.ts';
import { isValidHost, SiteRouter, type Site } from './site-router.ts';

/**
 * The request pipeline, in phases (after Pingora): request filter (site, path, headers) → upstream
 * request → response filter (status, headers) → body filter (rewrite by content type, streaming).
 * Runtime-agnostic: the origin fetch and the HTML engine are injected by the adapters.
 */
export interface MirrorDeps {
  config: MirrorConfig;
  fetchOrigin: OriginFetch;
  html: HtmlEngine;
  observer?: Observer;
}

export interface Mirror {
  /**
   * `trace`, when given, is filled in with the site and the origin's status and time. `signal` (default:
   * the request's) aborts the origin request when the reader leaves: the cache passes the reader's own,
   * since not every runtime carries a signal over into a Request built from another.
   */
  handle(request: Request, trace?: RequestTrace, signal?: AbortSignal): Promise<Response>;
  /** The mirror's scheme + host as the reader sees it, for absolute mirror URLs. */
  mirrorOriginOf(request: Request): string;
  readonly router: SiteRouter;
  /**
   * The reader's address per request signal, set by the app before the cache (which builds new
   * Requests but passes the reader's signal on): the key of the per-client share of origin slots.
   */
  readonly clients: WeakMap<AbortSignal, string>;
}

export type BodyKind = 'html' | 'css' | 'script' | 'feed' | 'passthrough';

export function bodyKind(contentType: string | null): BodyKind {
  if (!contentType) return 'passthrough';
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type === 'text/css') return 'css';
  if (/^(application|text)\/(x-)?(javascript|ecmascript)$/.test(type) || type === 'application/json' || type.endsWith('+json') || type === 'image/svg+xml') {
    return 'script';
  }
  if (type === 'text/xml' || type === 'application/xml' || type.endsWith('+xml')) return 'feed';
  return 'passthrough';
}

/** Feeds are rewritten whole (their HTML lives inside CDATA); past this size they are streamed with text rules only. */
const FEED_BUFFER_LIMIT = 16 * 1024 * 1024;
const UNSUPPORTED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** What the phases know about one request, once the request filter has accepted it. */
interface Exchange {
  request: Request;
  signal: AbortSignal;
  trace: RequestTrace | undefined;
  site: Site;
  /** The origin path (with query) the request maps to; `doc.origin` is the origin. */
  path: string;
  doc: DocContext;
  /** The whole request body, read before any origin slot is taken; null for none. */
  body: Uint8Array | null;
  /** When the origin request was sent (Date.now()). */
  started: number;
}

export function createMirror(deps: MirrorDeps): Mirror {
  const router = new SiteRouter(deps.config);
  const { trustForwardedProto, originTimeout, maxBodyBytes, maxConcurrentOriginRequests, originQueueTimeout, clientBodyTimeout, originReadAheadBytes, maxOriginRequestsPerClient } =
    deps.config.server;
  const slots = new Map<Site, Slots>(router.sites.map((site) => [site, new Slots(maxConcurrentOriginRequests, originQueueTimeout, maxOriginRequestsPerClient)]));
  const clients = new WeakMap<AbortSignal, string>();

  function mirrorOriginOf(request: Request, url = new URL(request.url)): string {
    let scheme = url.protocol;
    if (trustForwardedProto) {
      const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
      if (proto === 'http' || proto === 'https') scheme = `${proto}:`;
    }
    return `${scheme}//${url.host}`;
  }

  /** The phases in order; any failure becomes an answer in failResponse. */
  async function handle(request: Request, trace?: RequestTrace, signal: AbortSignal = request.signal): Promise<Response> {
    const accepted = await requestFilter(request, trace, signal);
    if (accepted instanceof Response) return accepted;
    const ex = accepted;
    let upstream: OriginResponse;
    try {
      upstream = await upstreamRequest(ex);
    } catch (err) {
      return failResponse(err, 'upstream', ex);
    }
    const { status, headers, kind } = responseFilter(ex, upstream);
    if (!upstream.body) return new Response(null, { status, headers });
    let body: ReadableStream<Uint8Array>;
    try {
      body = await bodyFilter(ex, kind, upstream.body, headers);
    } catch (err) {
      if (!signal.aborted) deps.observer?.originDone(ex.site.config.name, { error: String((err as Error)?.message ?? err), ms: Date.now() - ex.started, url: ex.doc.url });
      return failResponse(err, 'body', ex);
    }
    return new Response(body, { status, headers });
  }

  /**
   * Request filter: runs first, before anything is asked of an origin. Refuses what the mirror does not
   * serve (method, unparsable URL, bad or unknown host), maps the path to its origin, and reads the
   * whole request body within maxBodyBytes and clientBodyTimeout. Answers the request itself (a
   * Response) or accepts it (an Exchange). Changes nothing in the request; by default it accepts.
   */
  async function requestFilter(request: Request, trace: RequestTrace | undefined, signal: AbortSignal): Promise<Response | Exchange> {
    if (UNSUPPORTED_METHODS.has(request.method)) return errorPage(405, 'Method Not Allowed', `${request.method} is not supported by this mirror.`);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorPage(400, 'Bad Request', 'The request URL could not be parsed.');
    }
    const host = request.headers.get('host') ?? url.host;
    if (!isValidHost(host) || !isValidHost(url.host)) return errorPage(400, 'Bad Request', 'The Host header is not a valid host name.');
    const site = router.route(host);
    if (!site) return errorPage(421, 'Misdirected Request', 'This mirror does not serve that host name.');
    const { origin, path } = site.mapper.toOrigin(url.pathname + url.search);
    const ex: Exchange = { request, signal, trace, site, path, doc: { origin, url: origin.url + path, mirrorOrigin: mirrorOriginOf(request, url) }, body: null, started: 0 };
    const declaredLength = Number(request.headers.get('content-length') ?? 0);
    if (declaredLength > maxBodyBytes) return failResponse(new PayloadTooLargeError(maxBodyBytes), 'request', ex);
    // The whole body first, bounded in size and time; only then an origin slot.
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.body) {
      try {
        ex.body = await readRequestBody(request.body, maxBodyBytes, clientBodyTimeout, signal);
      } catch (err) {
        return failResponse(err, 'request', ex);
      }
    }
    return ex;
  }

  /**
   * Upstream request: runs once the request is accepted. Waits for one of the site's origin slots
   * (per-client share included), then sends the request to the origin with headers mapped back to it,
   * aborting after originTimeout or when the reader leaves. Resolves with the origin's answer, whose
   * body holds the slot until it ends or parks (see readAhead); rejects with what failed
   * (QueueTimeoutError, OriginTimeoutError, the origin client's error). Reports the origin's status and
   * time to the trace and the observer.
   */
  async function upstreamRequest(ex: Exchange): Promise<OriginResponse> {
    const { site, doc, signal, trace } = ex;
    const siteName = site.config.name;
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onClientAbort();
    else signal.addEventListener('abort', onClientAbort, { once: true });
    const release = await slots.get(site)!.acquire(controller.signal, clients.get(signal));
    const timer = setTimeout(() => controller.abort(new OriginTimeoutError(originTimeout)), originTimeout * 1000);
    const started = (ex.started = Date.now());
    let upstream: OriginResponse;
    try {
      upstream = await deps.fetchOrigin({
        url: doc.origin.connectTo + ex.path,
        method: ex.request.method,
        headers: originRequestHeaders(ex.request.headers, { mapper: site.mapper, origin: doc.origin, mirrorOrigin: doc.mirrorOrigin }),
        body: ex.body && bytesStream(ex.body),
        signal: controller.signal,
      });
    } catch (err) {
      release();
      if (trace) trace.error = String((err as Error)?.message ?? err); // the cause, for the access log
      if (!signal.aborted) deps.observer?.originDone(siteName, { error: String((err as Error)?.message ?? err), ms: Date.now() - started, url: doc.url });
      // The fetch fails with whatever the runtime makes of the abort: the timeout is the reason.
      const reason = controller.signal.reason;
      throw isMirrorError(reason) && reason.code === 'EM_ORIGIN_TIMEOUT' && !isMirrorError(err) ? new OriginTimeoutError(originTimeout, { cause: err }) : err;
    } finally {
      clearTimeout(timer);
    }
    const originMs = Date.now() - started;
    deps.observer?.originDone(siteName, { status: upstream.status, ms: originMs, url: doc.url });
    if (trace) {
      trace.originStatus = upstream.status;
      trace.originMs = originMs;
    }
    // The slot is held while the origin body is being read: until it ends, or until
    // originReadAheadBytes of it wait on a reader who does not keep up (then the reader holds only that
    // buffer and its connection, and the origin connection waits outside the slots).
    if (upstream.body) {
      const counted = onStreamEnd(upstream.body, (bytes) => {
        release();
        deps.observer?.originBytes(siteName, bytes);
      });
      upstream.body = readAhead(counted, originReadAheadBytes, release);
    } else release();
    return upstream;
  }

  /**
   * Response filter: runs on the origin's status and headers. Maps the headers to the mirror (cookies,
   * Location, Refresh, Link, CSP…), decides how the body will be rewritten, and drops the body where
   * there is none to send (HEAD, null-body statuses), so that `upstream.body` is null then. A status
   * outside 200–599 becomes 502. By default the origin's status and headers pass as mapped.
   */
  function responseFilter(ex: Exchange, upstream: OriginResponse): { status: number; headers: Headers; kind: BodyKind } {
    const headers = mirrorResponseHeaders(upstream.headers, ex.site.mapper, ex.doc);
    const kind = upstream.status === 206 ? 'passthrough' : bodyKind(headers.get('content-type'));
    if (kind !== 'passthrough') headers.delete('content-length');
    const status = upstream.status < 200 || upstream.status > 599 ? 502 : upstream.status;
    if (ex.request.method === 'HEAD' || NULL_BODY_STATUS.has(upstream.status)) {
      upstream.body?.cancel().catch(() => {});
      upstream.body = null;
    }
    return { status, headers, kind };
  }

  /**
   * Body filter: runs on the origin body, streaming. Waits for its first byte (a body that fails before
   * it is answered 502/504, not a 200 that ends at once), then rewrites it by kind: HTML through the
   * engine, CSS, scripts and JSON by text rules, feeds whole up to FEED_BUFFER_LIMIT; may change
   * content-type's charset (everything rewritten leaves as UTF-8). By default the body passes as it is.
   * A failure after the first byte reaches the reader as an aborted transfer.
   */
  async function bodyFilter(ex: Exchange, kind: BodyKind, body: ReadableStream<Uint8Array>, headers: Headers): Promise<ReadableStream<Uint8Array>> {
    try {
      body = (await peek(body, 1)).stream;
      return await filterBody(kind, body, headers, ex.site, ex.doc);
    } catch (err) {
      body.cancel().catch(() => {});
      throw err;
    }
  }

  /**
   * The one way a failure becomes an answer: statusForError picks the status, the phase picks the
   * words. A reader who has left gets a bodiless 499 (nobody reads it; the access log tells it apart).
   */
  function failResponse(err: unknown, phase: Phase, ex: Exchange): Response {
    const status = statusForError(err, phase, ex.signal.aborted);
    const { site, doc } = ex;
    switch (status) {
      case 499:
        return new Response(null, { status });
      case 413:
        return errorPage(413, 'Payload Too Large', `Request bodies are limited to ${maxBodyBytes} bytes.`, undefined, {}, site.config);
      case 408:
        return errorPage(408, 'Request Timeout', `The request body did not arrive within ${clientBodyTimeout} seconds.`, undefined, { connection: 'close' }, site.config);
      case 503:
        return errorPage(503, 'Service Unavailable', 'The mirror is busy; please try again in a moment.', doc.url, { 'retry-after': '5' }, site.config);
      case 504:
        return phase === 'body'
          ? errorPage(504, 'Gateway Timeout', 'The original site stopped sending this page.', doc.url, {}, site.config)
          : errorPage(504, 'Gateway Timeout', `The original site did not answer within ${originTimeout} seconds.`, doc.url, {}, site.config);
    }
    if (phase === 'request') return errorPage(400, 'Bad Request', 'The request body could not be read.', undefined, {}, site.config);
    return phase === 'body'
      ? errorPage(502, 'Bad Gateway', 'The original site failed while sending this page.', doc.url, {}, site.config)
      : errorPage(502, 'Bad Gateway', 'The original site could not be reached.', doc.url, {}, site.config);
  }

  async function filterBody(kind: BodyKind, body: ReadableStream<Uint8Array>, headers: Headers, site: Site, doc: DocContext): Promise<ReadableStream<Uint8Array>> {
    if (kind === 'passthrough') return body;
    const declared = charsetFromContentType(headers.get('content-type'));
    if (kind === 'html') return rewriteHtml(body, declared, headers, site, doc);
    const charset = declared ?? 'utf-8';
    if (charset !== 'utf-8') setCharset(headers, 'utf-8');
    if (kind === 'css') return rewriteTextStream(body, charset, createCssStreamRewriter((u) => site.mapper.toMirror(u, doc)));
    const textRules = tokenBoundedRewriter((text) => site.mapper.rewriteText(text, doc.mirrorOrigin));
    if (kind === 'script') return rewriteTextStream(body, charset, textRules);
    // feed
    const peeked = await peek(body, FEED_BUFFER_LIMIT + 1);
    const bytes = concatBytes(peeked.head, peeked.total);
    // XML's own declaration names the encoding when the header does not.
    const feedCharset = declared ?? xmlDeclaredCharset(bytes) ?? 'utf-8';
    if (feedCharset !== 'utf-8') setCharset(headers, 'utf-8');
    if (!peeked.done) return rewriteTextStream(peeked.stream, feedCharset, textRules);
    const xml = new TextDecoder(feedCharset).decode(bytes);
    return stringStream(await rewriteFeed(xml, { mapper: site.mapper, site: site.config, doc, engine: deps.html }));
  }

  async function rewriteHtml(body: ReadableStream<Uint8Array>, declared: string | null, headers: Headers, site: Site, doc: DocContext): Promise<ReadableStream<Uint8Array>> {
    let charset = declared;
    if (!charset) {
      // Nothing in the headers: BOM, a <meta>, else a detector over the first bytes (as browsers do),
      // holding back at most SNIFF_LIMIT bytes and stopping as soon as the answer is clear.
      // An origin body that fails while held back is decided on what arrived, and the failure goes on
      // to the reader after those bytes (an aborted transfer, not an error page in place of the page).
      const sniffer = new CharsetSniffer();
      const reader = body.getReader();
      const head: Uint8Array[] = [];
      let done = false;
      let failure: { error: unknown } | null = null;
      while (!sniffer.enough) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (error) {
          failure = { error };
          break;
        }
        if (r.done) {
          done = true;
          break;
        }
        head.push(r.value);
        sniffer.push(r.value);
      }
      charset = sniffer.decide(done);
      body = failure ? failAfter(head, failure.error) : prependChunks(head, reader);
    }
    const transcoded = charset !== 'utf-8' && canonicalCharset(charset) !== null;
    if (transcoded) body = rewriteTextStream(body, charset, IDENTITY_TEXT);
    else body = await dropUtf8Bom(body);
    setCharset(headers, 'utf-8');
    const onLeak = deps.observer ? (host: string) => deps.observer!.leak(site.config.name, host) : undefined;
    return deps.html.rewrite(body, (registry) =>
      registerHtmlRules(registry, { mapper: site.mapper, site: site.config, doc, mode: 'page', transcodedToUtf8: transcoded, onLeak }),
    );
  }

  return { handle, mirrorOriginOf, router, clients };
}

/** The chunks, then the error: a body that failed while the mirror held its first bytes back. */
function failAfter(head: Uint8Array[], error: unknown): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < head.length) controller.enqueue(head[i++]!);
      else controller.error(error);
    },
  });
}

const IDENTITY_TEXT: TextRewriter = { push: (s) => s, flush: () => '' };

function setCharset(headers: Headers, charset: string): void {
  const type = headers.get('content-type');
  if (!type) return;
  const base = type.split(';', 1)[0]!.trim();
  const params = type
    .slice(base.length)
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p && !/^charset\s*=/i.test(p));
  headers.set('content-type', [base, ...params, `charset=${charset}`].join('; '));
}
