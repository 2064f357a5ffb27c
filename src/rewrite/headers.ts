import { rewriteRefresh } from '../http/refresh.ts';
import type { DocContext, MappedOrigin, SiteMapper } from '../mapping/url-mapper.ts';

/** Header rules in both directions. Every URL goes through the SiteMapper. */

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * Headers that identify the reader or the mirror's own infrastructure: never sent to the origin (with
 * every `x-forwarded-*`). One list: add new client-address or tracing headers here.
 */
export const READER_IDENTIFYING = [
  'forwarded',
  'x-real-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'true-client-ip',
  'cf-ipcountry',
  'cf-ray',
  'cf-visitor',
  'cf-worker',
  'cdn-loop',
  'via',
  'x-client-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-proxyuser-ip',
  'x-azure-clientip',
  'x-azure-socketip',
  'x-appengine-user-ip',
  'akamai-origin-hop',
  'cf-ew-via',
  'x-amzn-trace-id',
  'traceparent',
  'tracestate',
];

/** Origin response headers that would break or betray the mirror. */
const DROPPED_FROM_ORIGIN = [
  'content-security-policy',
  'content-security-policy-report-only',
  'strict-transport-security',
  'public-key-pins',
  'public-key-pins-report-only',
  'clear-site-data',
  'expect-ct',
  'alt-svc',
  'report-to',
  'reporting-endpoints',
  'nel',
];

function dropHopByHop(headers: Headers): void {
  const named = headers.get('connection');
  if (named) for (const name of named.split(',')) headers.delete(name.trim());
  for (const name of HOP_BY_HOP) headers.delete(name);
}

export interface OriginRequestContext {
  mapper: SiteMapper;
  origin: MappedOrigin;
  /** The mirror's scheme + host as the reader sees it. */
  mirrorOrigin: string;
}

/** Headers for the origin request: Host of the origin, Referer/Origin mapped back, nothing about the reader. */
export function originRequestHeaders(incoming: Headers, ctx: OriginRequestContext): Headers {
  const headers = new Headers(incoming);
  dropHopByHop(headers);
  for (const name of READER_IDENTIFYING) headers.delete(name);
  for (const name of [...headers.keys()]) if (name.startsWith('x-forwarded-')) headers.delete(name);
  const cookie = headers.get('cookie');
  if (cookie) {
    const kept = cookiesFor(cookie, ctx.origin, ctx.mapper);
    if (kept) headers.set('cookie', kept);
    else headers.delete('cookie');
  }
  headers.set('host', ctx.origin.host);
  // The fetcher decodes these; asking for other encodings would hand the rewriter bytes it cannot read.
  headers.set('accept-encoding', 'gzip, deflate, br');
  const referer = headers.get('referer');
  if (referer) {
    const mapped = ctx.mapper.mirrorUrlToOrigin(referer, ctx.mirrorOrigin);
    if (mapped) headers.set('referer', mapped);
    else headers.delete('referer');
  }
  const origin = headers.get('origin');
  if (origin) {
    if (origin.toLowerCase() === ctx.mirrorOrigin.toLowerCase()) headers.set('origin', ctx.origin.url);
    else headers.delete('origin');
  }
  return headers;
}

/** Cookies that the mirror's own CDN (Cloudflare) sets on the mirror host: they belong to no origin. */
const MIRROR_COOKIE = /^(__cf|cf_|_cfuvid$)/;

/**
 * Cookie scope follows the origin that set it. All of a site's origins share the mirror's one host, and
 * a browser sends a Path=/ cookie to every mounted path too, so a cookie set by a mounted origin (e.g.
 * i.epochtimes.com on /_i/) is renamed with that mount's prefix ("_i~name") as well as scoped to its
 * Path: requests to that origin get only the cookies carrying its prefix (the prefix removed), and the
 * root origin gets only the unprefixed ones. So the root's cookies never reach another origin.
 */
export function cookiePrefix(origin: MappedOrigin): string {
  return origin.mountBase ? `${origin.mountBase.slice(1).replace(/[^A-Za-z0-9_-]/g, '.')}~` : '';
}

function cookiesFor(cookie: string, origin: MappedOrigin, mapper: SiteMapper): string {
  const own = cookiePrefix(origin);
  const others = mapper.origins.map(cookiePrefix).filter((p) => p && p !== own);
  const kept: string[] = [];
  for (const raw of cookie.split(';')) {
    const c = raw.trim();
    if (!c) continue;
    const name = c.slice(0, c.indexOf('=') >>> 0);
    if (MIRROR_COOKIE.test(name)) continue;
    if (own) {
      if (name.startsWith(own)) kept.push(c.slice(own.length));
    } else if (!others.some((p) => name.startsWith(p))) {
      kept.push(c);
    }
  }
  return kept.join('; ');
}

const LINK_TARGET = /<([^>]*)>/g;

function rewriteSetCookie(cookie: string, origin: MappedOrigin): string {
  const parts = cookie.split(';');
  const kept: string[] = [cookiePrefix(origin) + parts[0]!.trimStart()];
  let hasPath = false;
  for (const part of parts.slice(1)) {
    const [rawName = '', ...rest] = part.split('=');
    const name = rawName.trim().toLowerCase();
    // Host-only on the mirror: the origin's Domain would never match the mirror's host.
    if (name === 'domain') continue;
    if (name === 'path') {
      hasPath = true;
      const path = rest.join('=').trim();
      kept.push(` Path=${origin.mountBase}${path.startsWith('/') ? path : '/' + path}`);
      continue;
    }
    kept.push(part);
  }
  if (!hasPath && origin.mountBase) kept.push(` Path=${origin.mount}`);
  return kept.join(';');
}

/** The response headers the reader gets, from the origin's. `doc` is the requested page. */
export function mirrorResponseHeaders(from: Headers, mapper: SiteMapper, doc: DocContext): Headers {
  const headers = new Headers();
  for (const [name, value] of from) {
    if (name === 'set-cookie') continue;
    headers.append(name, value);
  }
  for (const cookie of from.getSetCookie()) headers.append('set-cookie', rewriteSetCookie(cookie, doc.origin));
  dropHopByHop(headers);
  for (const name of DROPPED_FROM_ORIGIN) headers.delete(name);

  for (const name of ['location', 'content-location']) {
    const value = headers.get(name);
    if (!value) continue;
    const next = mapper.toMirror(value, doc);
    if (next !== null) headers.set(name, next);
  }
  const refresh = headers.get('refresh');
  if (refresh) {
    const next = rewriteRefresh(refresh, (url) => mapper.toMirror(url, doc));
    if (next !== null) headers.set('refresh', next);
  }
  const link = headers.get('link');
  if (link) {
    const next = link.replace(LINK_TARGET, (whole, url: string) => {
      const mapped = mapper.toMirror(url, doc);
      return mapped === null ? whole : `<${mapped}>`;
    });
    if (next !== link) headers.set('link', next);
  }
  return headers;
}
