import type { SiteRouter } from '../proxy/site-router.ts';
import { presentedToken, tokenMatches } from '../proxy/token.ts';
import type { HttpCache } from './http-cache.ts';

/**
 * POST /_mirror/purge: {"url": "/path"} drops one URL (all its variants), {"prefix": "/gb/"} a path
 * prefix; either as a mirror path or an original URL. Bearer-token protected; the cache does the
 * dropping (HttpCache.purge), this reads and answers the HTTP request.
 */
export async function purgeEndpoint(
  request: Request,
  token: string | null,
  deps: { cache: HttpCache; router: SiteRouter; mirrorOriginOf(request: Request): string },
): Promise<Response> {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body) + '\n', { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
  if (request.method !== 'POST') return json(405, { error: 'use POST' }, { allow: 'POST' });
  // Read the (small) body before answering, refusals included: some runtimes reset a connection
  // whose request body was left unread.
  let text: string;
  try {
    text = await request.text();
  } catch {
    return json(400, { error: 'unreadable request body' });
  }
  if (text.length > 65536) return json(413, { error: 'purge requests are small JSON objects' });
  if (!token) return json(403, { error: 'purge is disabled: set cache.purgeToken or EDGEMIRROR_PURGE_TOKEN' });
  if (!tokenMatches(presentedToken(request), token)) return json(401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
  const site = deps.router.route(request.headers.get('host'));
  if (!site) return json(421, { error: 'no site for this host' });
  let body: { url?: unknown; prefix?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return json(400, { error: 'body must be JSON: {"url": "/path"} or {"prefix": "/path/"}' });
  }
  const toPath = (value: unknown): string | null => {
    if (typeof value !== 'string' || value === '') return null;
    if (value.startsWith('/')) return value;
    // An original URL: find its mirror path.
    const origin = deps.mirrorOriginOf(request);
    return site.mapper.toMirror(value, { origin: site.mapper.root, url: site.mapper.root.url + '/', mirrorOrigin: origin });
  };
  const url = toPath(body?.url);
  const prefix = toPath(body?.prefix);
  if (!url && !prefix) return json(400, { error: 'give "url" (one URL) or "prefix" (a path prefix), as a mirror path or an original URL' });
  const purged = await deps.cache.purge(site.config.name, url ? { url } : { prefix: prefix! }, request);
  if (purged === null) {
    return json(501, { error: 'this cache cannot list its entries (Workers Cache API): purge single URLs, or purge the zone in Cloudflare' });
  }
  return json(200, { purged, site: site.config.name, ...(url ? { url } : { prefix }) });
}
