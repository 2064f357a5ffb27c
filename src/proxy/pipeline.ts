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
import { BodyTimeoutError, bytesStream, onStreamEnd, PayloadTooLargeError, readAhead, readRequestBody, Slots } from './limits.ts';
import { OriginTimeoutError, type OriginFetch, type OriginResponse } from './origin-fetch.ts';
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

  async function handle(request: Request, trace?: RequestTrace, signal: AbortSignal = request.signal): Promise<Response> {
    // ── request filter ──
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
    const siteName = site.config.name;
    const { origin, path } = site.mapper.toOrigin(url.pathname + url.search);
    const doc: DocContext = { origin, url: origin.url + path, mirrorOrigin: mirrorOriginOf(request, url) };
    const declaredLength = Number(request.headers.get('content-length') ?? 0);
    if (declaredLength > maxBodyBytes) return errorPage(413, 'Payload Too Large', `Request bodies are limited to ${maxBodyBytes} bytes.`, undefined, {}, site.config);
    // The whole body first, bounded in size and time; only then an origin slot.
    let requestBody: Uint8Array | null = null;
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.body) {
      try {
        requestBody = await readRequestBody(request.body, maxBodyBytes, clientBodyTimeout, signal);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) return errorPage(413, 'Payload Too Large', `Request bodies are limited to ${maxBodyBytes} bytes.`, undefined, {}, site.config);
        if (err instanceof BodyTimeoutError) {
          return errorPage(408, 'Request Timeout', `The request body did not arrive within ${clientBodyTimeout} seconds.`, undefined, { connection: 'close' }, site.config);
        }
        return errorPage(400, 'Bad Request', 'The request body could not be read.', undefined, {}, site.config);
      }
    }

    // ── upstream request ──
    const controller = new AbortController();
    const onClientAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onClientAbort();
    else signal.addEventListener('abort', onClientAbort, { once: true });
    let release: () => void;
    try {
      release = await slots.get(site)!.acquire(controller.signal, clients.get(signal));
    } catch (err) {
      return errorPage(503, 'Service Unavailable', 'The mirror is busy; please try again in a moment.', doc.url, { 'retry-after': '5' }, site.config);
    }
    const timer = setTimeout(() => controller.abort(new OriginTimeoutError(originTimeout)), originTimeout * 1000);
    const started = Date.now();
    let upstream: OriginResponse;
    try {
      const body = requestBody && bytesStream(requestBody);
      upstream = await deps.fetchOrigin({
        url: origin.connectTo + path,
        method: request.method,
        headers: originRequestHeaders(request.headers, { mapper: site.mapper, origin, mirrorOrigin: doc.mirrorOrigin }),
        body,
        signal: controller.signal,
      });
    } catch (err) {
      release();
      if (trace) trace.error = String((err as Error)?.message ?? err); // the cause, for the access log
      const name = (err as { name?: string })?.name;
      if (!signal.aborted) deps.observer?.originDone(siteName, { error: String((err as Error)?.message ?? err), ms: Date.now() - started, url: doc.url });
      const timedOut = controller.signal.reason instanceof OriginTimeoutError || name === 'OriginTimeoutError';
      return timedOut
        ? errorPage(504, 'Gateway Timeout', `The original site did not answer within ${originTimeout} seconds.`, doc.url, {}, site.config)
        : errorPage(502, 'Bad Gateway', 'The original site could not be reached.', doc.url, {}, site.config);
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

    // ── response filter ──
    const headers = mirrorResponseHeaders(upstream.headers, site.mapper, doc);
    const noBody = request.method === 'HEAD' || NULL_BODY_STATUS.has(upstream.status) || !upstream.body;
    const kind = upstream.status === 206 ? 'passthrough' : bodyKind(headers.get('content-type'));
    if (kind !== 'passthrough') headers.delete('content-length');
    const status = upstream.status < 200 || upstream.status > 599 ? 502 : upstream.status;
    if (noBody) {
      upstream.body?.cancel().catch(() => {});
      return new Response(null, { status, headers });
    }

    // ── body filter ──
    // The response starts with the origin body's first byte: a body that fails before it is a 502
    // (504 on the idle timeout), not a 200 that ends at once, nor a 500.
    let body = upstream.body!;
    try {
      body = (await peek(body, 1)).stream;
      body = await filterBody(kind, body, headers, site, doc);
    } catch (err) {
      body.cancel().catch(() => {});
      if (!signal.aborted) deps.observer?.originDone(siteName, { error: String((err as Error)?.message ?? err), ms: Date.now() - started, url: doc.url });
      return (err as { name?: string })?.name === 'OriginTimeoutError' || (err as { code?: string })?.code === 'UND_ERR_BODY_TIMEOUT'
        ? errorPage(504, 'Gateway Timeout', 'The original site stopped sending this page.', doc.url, {}, site.config)
        : errorPage(502, 'Bad Gateway', 'The original site failed while sending this page.', doc.url, {}, site.config);
    }
    return new Response(body, { status, headers });
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
