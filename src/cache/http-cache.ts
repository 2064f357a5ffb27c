import type { CacheConfig } from '../config/types.ts';
import { RevalidationError } from '../http/errors.ts';
import { NULL_BODY_STATUS } from '../http/status.ts';
import type { SiteRouter } from '../proxy/site-router.ts';
import type { RequestTrace } from '../observe/observer.ts';
import { withHeaders } from '../proxy/response-headers.ts';
import { BodyBroadcast, FillBudget } from './broadcast.ts';
import { etagMatches, storability, varyNames, type Freshness } from './policy.ts';
import type { CacheRecord, CacheStore, StoredResponse } from './store.ts';

/**
 * The cache in front of the mirror pipeline: rewritten responses, shared by every mirror host of a site,
 * with request coalescing, stale-while-revalidate, stale-if-error, conditional requests and purge.
 * Every response says what happened in `x-cache`: HIT, MISS, STALE, BYPASS or REVALIDATED.
 */
export interface HttpCacheOptions {
  config: CacheConfig;
  store: CacheStore;
  router: SiteRouter;
  /** The mirror pipeline. */
  handle(request: Request, trace?: RequestTrace, signal?: AbortSignal): Promise<Response>;
  /** The mirror's scheme + host for a request (responses naming it are stored per mirror host). */
  mirrorOriginOf(request: Request): string;
  now?: () => number;
  /**
   * Bytes all cache fills in flight may hold together (default: a quarter of cache.maxBytes, at least
   * maxEntryBytes, at most 64 MiB). Past it a fill is abandoned: streamed on, not cached.
   */
  fillBudgetBytes?: number;
}

/** Keeps background work (refreshes, stores) alive: Workers' ctx.waitUntil; on Node promises just run. */
export type WaitUntil = (promise: Promise<unknown>) => void;

/** A synthetic Vary name: set on responses whose body or headers name the mirror's own host. */
const MIRROR_ORIGIN = 'x-mirror-origin';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * A response on its way from the origin. `shared`: one origin body that several readers may stream
 * (coalesced misses), kept whole for the cache when `stores`. `leader` is the request that asked
 * the origin: a coalesced reader joins only if the response's Vary headers match its own.
 */
type Fill =
  | { shared: true; status: number; headers: Headers; broadcast: BodyBroadcast; leader: Request; joinable: boolean }
  | { shared: false; response?: Response };

export class HttpCache {
  private readonly inflight = new Map<string, Promise<Fill>>();
  private readonly refreshing = new Set<string>();
  /**
   * Records being written (stores such as the Cache API take a while): served from here meanwhile, so
   * a reader arriving just after a fill completed gets its body instead of asking the origin again.
   */
  private readonly storing = new Map<string, CacheRecord>();
  private readonly now: () => number;
  readonly fillBudget: FillBudget;

  constructor(private readonly opts: HttpCacheOptions) {
    this.now = opts.now ?? Date.now;
    const { maxBytes, maxEntryBytes } = opts.config;
    this.fillBudget = new FillBudget(opts.fillBudgetBytes ?? Math.max(maxEntryBytes, Math.min(maxBytes / 4, 64 * 1024 * 1024)));
  }

  async handle(request: Request, waitUntil: WaitUntil = () => {}, trace?: RequestTrace): Promise<Response> {
    const { config } = this.opts;
    const site = this.opts.router.route(request.headers.get('host'));
    const method = request.method;
    if (!config.enabled || !site || request.headers.has('range') || (method !== 'GET' && method !== 'HEAD')) {
      const response = await this.opts.handle(request, trace);
      if (site && config.enabled && UNSAFE.has(method) && response.status < 400) {
        // A successful unsafe request invalidates what the cache holds for that URL (RFC 9111 §4.4).
        waitUntil(this.dropUrl(this.primaryKey(site.config.name, request), request));
      }
      return withCacheHeaders(response, 'BYPASS', null);
    }
    const primary = this.primaryKey(site.config.name, request);
    const hasCredentials = request.headers.has('cookie') || request.headers.has('authorization');
    const found = await this.lookup(primary, request);
    const now = this.now();

    if (found && (!hasCredentials || found.entry.public)) {
      const { entry, key } = found;
      if (now < entry.freshUntil) return this.serve(request, entry, 'HIT');
      if (now < entry.staleWhileRevalidateUntil) {
        this.refreshInBackground(key, request, waitUntil);
        return this.serve(request, entry, 'STALE');
      }
      return this.revalidate(request, key, primary, entry, waitUntil, trace);
    }
    if (hasCredentials) {
      // Possibly personal: not coalesced with others; stored only if the origin says `public`.
      return this.respondFromFill(request, await this.startFill(request, primary, true, waitUntil, undefined, trace), 'BYPASS');
    }
    return this.miss(request, primary, waitUntil, trace);
  }

  /**
   * Drops a site's cached copies: one mirror path (`url`, all its variants; `request` names the variant
   * a store that cannot list keys drops) or every path under `prefix`. The number dropped, or null
   * when the store cannot list its entries (a prefix on the Workers Cache API).
   */
  async purge(siteName: string, target: { url: string } | { prefix: string }, request?: Request): Promise<number | null> {
    if ('url' in target) return this.dropUrl(`${siteName} ${target.url}`, request);
    const prefix = `${siteName} ${target.prefix}`;
    for (const key of [...this.storing.keys()]) if (key.startsWith(prefix)) this.storing.delete(key);
    return this.opts.store.deletePrefix(prefix);
  }

  private primaryKey(site: string, request: Request): string {
    const url = new URL(request.url);
    return `${site} ${url.pathname}${url.search}`;
  }

  /** Drops a URL and its variants (their keys: the Vary record names them, or the store lists them). */
  private async dropUrl(primary: string, request?: Request): Promise<number> {
    for (const key of [...this.storing.keys()]) if (key === primary || key.startsWith(`${primary}\n`)) this.storing.delete(key);
    const record = await this.opts.store.get(primary);
    let n = (await this.opts.store.delete(primary)) ? 1 : 0;
    const listed = await this.opts.store.deletePrefix(`${primary}\n`);
    if (listed !== null) return n + listed;
    // A store that cannot list keys: drop the variant this request would use.
    if (record?.kind === 'vary' && request && (await this.opts.store.delete(this.varyKey(primary, record.vary, request)))) n++;
    return n;
  }

  private varyKey(primary: string, vary: string[], request: Request): string {
    if (vary.length === 0) return primary;
    const values = vary.map((name) => `${name}=${name === MIRROR_ORIGIN ? this.opts.mirrorOriginOf(request) : (request.headers.get(name) ?? '')}`);
    return `${primary}\n${values.join('\n')}`;
  }

  private async get(key: string): Promise<CacheRecord | undefined> {
    return this.storing.get(key) ?? this.opts.store.get(key);
  }

  private async lookup(primary: string, request: Request): Promise<{ entry: StoredResponse; key: string } | null> {
    const record = await this.get(primary);
    if (!record) return null;
    if (record.kind === 'response') return { entry: record, key: primary };
    const key = this.varyKey(primary, record.vary, request);
    const entry = await this.get(key);
    return entry?.kind === 'response' ? { entry, key } : null;
  }

  private async miss(request: Request, primary: string, waitUntil: WaitUntil, trace?: RequestTrace): Promise<Response> {
    // Coalesce per mirror host too: until the body is seen, it may name the host.
    const key = `${primary}\n@${this.opts.mirrorOriginOf(request)}`;
    let fill = this.inflight.get(key);
    if (fill) {
      const joined = await fill;
      if (joined.shared && joined.joinable && joined.broadcast.joinable && sameVariant(joined.headers, joined.leader, request)) {
        return this.respondFromFill(request, joined, 'MISS');
      }
      // Not for this reader (personal, or another variant): it asks the origin itself.
      return this.respondFromFill(request, await this.startFill(request, primary, false, waitUntil, undefined, trace), 'MISS');
    }
    fill = this.startFill(request, primary, false, waitUntil, undefined, trace);
    this.inflight.set(key, fill);
    const settle = () => this.inflight.delete(key);
    fill.then((f) => (f.shared ? f.broadcast.completed.then(settle) : settle()), settle);
    return this.respondFromFill(request, await fill, 'MISS');
  }

  /** Asks the origin (through the pipeline) with a clean GET, and arranges storing the result. */
  private async startFill(
    request: Request,
    primary: string,
    hasCredentials: boolean,
    waitUntil: WaitUntil,
    revalidating?: StoredResponse,
    trace?: RequestTrace,
  ): Promise<Fill> {
    const headers = new Headers(request.headers);
    for (const name of ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']) headers.delete(name);
    if (revalidating) {
      const stored = new Headers(revalidating.headers);
      const etag = stored.get('etag');
      const lastModified = stored.get('last-modified');
      if (etag) headers.set('if-none-match', etag);
      if (lastModified) headers.set('if-modified-since', lastModified);
    }
    const originRequest = new Request(request.url, { method: 'GET', headers, signal: request.signal });
    const response = await this.opts.handle(originRequest, trace, request.signal);
    const receivedAt = this.now();
    const decision = storability(response.status, response.headers, hasCredentials, this.opts.config, receivedAt);
    const length = Number(response.headers.get('content-length') ?? NaN);
    // Personal responses are neither stored nor shared with coalesced readers.
    const personal = hasCredentials || response.headers.has('set-cookie') || /\b(private|no-store)\b/i.test(response.headers.get('cache-control') ?? '');
    if (!response.body || (!decision.store && personal)) return { shared: false, response };
    // The body is kept (held whole in memory) only when the cache will store it: storable, not
    // declared too large (rewritten bodies have no Content-Length: the broadcast counts their bytes).
    const keep = decision.store && !(length > this.opts.config.maxEntryBytes) ? this.opts.config.maxEntryBytes : 0;
    const status = response.status;
    const responseHeaders = response.headers;
    const broadcast = new BodyBroadcast(
      response.body.getReader(),
      keep,
      (body) => {
        if (body && decision.store) waitUntil(this.storeBody(primary, request, status, responseHeaders, body, decision.freshness, receivedAt));
      },
      this.fillBudget,
    );
    return { shared: true, status, headers: responseHeaders, broadcast, leader: request, joinable: !personal };
  }

  private respondFromFill(request: Request, fill: Fill, state: 'MISS' | 'BYPASS'): Response {
    if (!fill.shared) {
      const response = fill.response!;
      if (request.method === 'HEAD') response.body?.cancel().catch(() => {});
      return withCacheHeaders(request.method === 'HEAD' ? new Response(null, response) : response, state, null);
    }
    const headers = new Headers(fill.headers);
    if (request.method === 'HEAD') {
      // The fill goes on if the cache keeps it; this reader wants headers only.
      if (fill.broadcast.keepingBody) fill.broadcast.drain().catch(() => {});
      else fill.broadcast.subscribe().cancel().catch(() => {});
      return withCacheHeaders(new Response(null, { status: fill.status, headers }), state, null);
    }
    return withCacheHeaders(new Response(fill.broadcast.subscribe(), { status: fill.status, headers }), state, null);
  }

  private async storeBody(primary: string, request: Request, status: number, headers: Headers, body: Uint8Array, freshness: Freshness, receivedAt: number): Promise<void> {
    const vary = varyNames(headers);
    if (namesMirrorHost(body, headers, this.opts.mirrorOriginOf(request))) vary.push(MIRROR_ORIGIN);
    const entry: StoredResponse = { ...this.entryFor(status, headers, freshness, receivedAt, vary), body };
    await this.storeVariant(primary, request, entry, (key) => this.opts.store.set(key, entry));
  }

  private entryFor(status: number, headers: Headers, freshness: Freshness, receivedAt: number, vary: string[]): Omit<StoredResponse, 'body'> {
    const stored = new Headers(headers);
    const initialAge = Number(stored.get('age')) || 0;
    stored.delete('age');
    return {
      kind: 'response',
      status,
      headers: [...stored],
      storedAt: receivedAt,
      initialAge,
      ...deadlines(receivedAt, freshness),
      public: freshness.public,
      vary,
    };
  }

  /** Writes the Vary record at the primary key when the entry varies, then the entry under its key. */
  private async storeVariant(primary: string, request: Request, entry: StoredResponse, put: (key: string) => Promise<void>): Promise<void> {
    const key = entry.vary.length === 0 ? primary : this.varyKey(primary, entry.vary, request);
    const vary: CacheRecord | null = entry.vary.length === 0 ? null : { kind: 'vary', vary: entry.vary, expiresAt: entry.staleIfErrorUntil };
    // Visible at once (before the store's own writes settle); the store's copy wins afterwards.
    const pending: [string, CacheRecord][] = vary ? [[primary, vary], [key, entry]] : [[key, entry]];
    for (const [k, r] of pending) this.storing.set(k, r);
    try {
      if (vary) await this.opts.store.set(primary, vary);
      await put(key);
    } finally {
      for (const [k, r] of pending) if (this.storing.get(k) === r) this.storing.delete(k);
    }
  }

  private refreshInBackground(key: string, request: Request, waitUntil: WaitUntil): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    const primary = key.split('\n', 1)[0]!;
    // Detached from the reader's request: it must finish even after the reader has gone.
    const detached = new Request(request.url, { method: 'GET', headers: request.headers });
    const work = this.startFill(detached, primary, false, waitUntil)
      .then(async (fill) => {
        if (fill.shared) await fill.broadcast.drain();
        else await fill.response?.body?.cancel();
      })
      .catch(() => {})
      .finally(() => this.refreshing.delete(key));
    waitUntil(work);
  }

  private async revalidate(request: Request, key: string, primary: string, entry: StoredResponse, waitUntil: WaitUntil, trace?: RequestTrace): Promise<Response> {
    const now = this.now();
    let fill: Fill;
    try {
      fill = await this.startFill(request, primary, false, waitUntil, entry, trace);
    } catch (err) {
      if (now < entry.staleIfErrorUntil) return this.serve(request, entry, 'STALE');
      throw new RevalidationError(err);
    }
    const status = fill.shared ? fill.status : fill.response!.status;
    if (status === 304) {
      // Still valid: refresh the stored copy's deadlines from the 304's headers.
      const merged = new Headers(entry.headers);
      const fresh = fill.shared ? fill.headers : fill.response!.headers;
      for (const name of ['cache-control', 'expires', 'etag', 'last-modified', 'date']) {
        const v = fresh.get(name);
        if (v !== null) merged.set(name, v);
      }
      if (!fill.shared) fill.response!.body?.cancel().catch(() => {});
      const decision = storability(entry.status, merged, false, this.opts.config, this.now());
      if (decision.store) {
        const renewed: StoredResponse = { ...entry, headers: [...merged], storedAt: this.now(), initialAge: 0, ...deadlines(this.now(), decision.freshness) };
        waitUntil(this.opts.store.set(key, renewed));
        return this.serve(request, renewed, 'REVALIDATED');
      }
      return this.serve(request, entry, 'REVALIDATED');
    }
    if (status >= 500 && now < entry.staleIfErrorUntil) {
      if (fill.shared) fill.broadcast.subscribe().cancel().catch(() => {});
      else fill.response!.body?.cancel().catch(() => {});
      return this.serve(request, entry, 'STALE');
    }
    return this.respondFromFill(request, fill, 'MISS');
  }

  /** A stored response, answered with 304 when the reader's validators match. */
  private serve(request: Request, entry: StoredResponse, state: 'HIT' | 'STALE' | 'REVALIDATED'): Response {
    const headers = new Headers(entry.headers);
    const age = entry.initialAge + Math.max(0, Math.floor((this.now() - entry.storedAt) / 1000));
    if (notModified(request, headers)) {
      return withCacheHeaders(new Response(null, { status: 304, headers: conditionalHeaders(headers) }), state, age);
    }
    const body = request.method === 'HEAD' || NULL_BODY_STATUS.has(entry.status) ? null : entry.body;
    return withCacheHeaders(new Response(body as BodyInit | null, { status: entry.status, headers }), state, age);
  }
}

/** Whether a coalesced reader would get the same variant as the request that started the fill. */
function sameVariant(headers: Headers, leader: Request, follower: Request): boolean {
  const vary = headers.get('vary');
  if (!vary) return true;
  if (vary.includes('*')) return false;
  return varyNames(headers).every((name) => leader.headers.get(name) === follower.headers.get(name));
}

function deadlines(at: number, f: Freshness): Pick<StoredResponse, 'freshUntil' | 'staleWhileRevalidateUntil' | 'staleIfErrorUntil'> {
  const freshUntil = at + f.fresh * 1000;
  return {
    freshUntil,
    staleWhileRevalidateUntil: freshUntil + f.staleWhileRevalidate * 1000,
    staleIfErrorUntil: freshUntil + f.staleIfError * 1000,
  };
}

function notModified(request: Request, headers: Headers): boolean {
  const inm = request.headers.get('if-none-match');
  if (inm !== null) return etagMatches(inm, headers.get('etag'));
  const ims = request.headers.get('if-modified-since');
  const lastModified = headers.get('last-modified');
  if (ims === null || lastModified === null) return false;
  const since = Date.parse(ims);
  const modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

function conditionalHeaders(headers: Headers): Headers {
  const out = new Headers();
  for (const name of ['cache-control', 'content-location', 'date', 'etag', 'expires', 'last-modified', 'vary']) {
    const v = headers.get(name);
    if (v !== null) out.set(name, v);
  }
  return out;
}

function withCacheHeaders(response: Response, state: string, age: number | null): Response {
  return withHeaders(response, { 'x-cache': state, age: age === null ? null : String(age) });
}

/** Whether a rewritten response names the mirror host (absolute mirror URLs in feeds, og: meta, scripts, headers). */
function namesMirrorHost(body: Uint8Array, headers: Headers, mirrorOrigin: string): boolean {
  const host = mirrorOrigin.slice(mirrorOrigin.indexOf('//') + 2);
  for (const [, value] of headers) if (value.includes(host)) return true;
  const needle = new TextEncoder().encode(host);
  outer: for (let i = body.indexOf(needle[0]!); i >= 0 && i <= body.length - needle.length; i = body.indexOf(needle[0]!, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (body[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

