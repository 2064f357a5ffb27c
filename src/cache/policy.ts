import type { CacheConfig, CacheTtls } from '../config/types.ts';

/** HTTP caching rules (RFC 9111, shared cache) applied to the origin's response headers. */

export type Directives = Map<string, string | true>;

export function parseCacheControl(value: string | null): Directives {
  const out: Directives = new Map();
  if (!value) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    const arg = eq < 0 ? true : part.slice(eq + 1).trim().replace(/^"|"$/g, '');
    if (!out.has(name)) out.set(name, arg);
  }
  return out;
}

function seconds(d: Directives, name: string): number | null {
  const v = d.get(name);
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return null;
  return Number(v);
}

const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 410]);

export interface Freshness {
  /** Seconds the response is fresh (after the origin's Age). */
  fresh: number;
  staleWhileRevalidate: number;
  staleIfError: number;
  public: boolean;
}

function ttlsFor(config: CacheConfig, contentType: string | null): CacheTtls {
  const type = (contentType ?? '').toLowerCase();
  const override = config.overrides.find((o) => type.startsWith(o.contentType.toLowerCase()));
  return {
    defaultTtl: override?.defaultTtl ?? config.defaultTtl,
    maxTtl: override?.maxTtl ?? config.maxTtl,
    staleWhileRevalidate: override?.staleWhileRevalidate ?? config.staleWhileRevalidate,
    staleIfError: override?.staleIfError ?? config.staleIfError,
  };
}

/**
 * Whether a response may be stored and for how long, or the reason it may not.
 * `requestHasCredentials`: the request carried Cookie or Authorization.
 */
export function storability(
  status: number,
  headers: Headers,
  requestHasCredentials: boolean,
  config: CacheConfig,
  now: number,
): { store: true; freshness: Freshness } | { store: false; reason: string } {
  if (!CACHEABLE_STATUS.has(status)) return { store: false, reason: `status ${status}` };
  const cc = parseCacheControl(headers.get('cache-control'));
  if (cc.has('no-store')) return { store: false, reason: 'no-store' };
  if (cc.has('private')) return { store: false, reason: 'private' };
  if (headers.has('set-cookie')) return { store: false, reason: 'set-cookie' };
  if ((headers.get('vary') ?? '').includes('*')) return { store: false, reason: 'vary *' };
  // no-cache: stored only to be revalidated before every use, which needs a validator; without one,
  // every use would fetch the whole body again, so keeping (and holding) it is wasted.
  if (cc.has('no-cache') && !headers.has('etag') && !headers.has('last-modified')) return { store: false, reason: 'no-cache without a validator' };
  const isPublic = cc.has('public');
  if (requestHasCredentials && !isPublic) return { store: false, reason: 'credentials' };

  const ttls = ttlsFor(config, headers.get('content-type'));
  let lifetime = seconds(cc, 's-maxage') ?? seconds(cc, 'max-age');
  if (lifetime === null) {
    const expires = headers.get('expires');
    if (expires !== null) {
      const at = Date.parse(expires);
      const date = Date.parse(headers.get('date') ?? '') || now;
      lifetime = Number.isNaN(at) ? 0 : Math.max(0, Math.floor((at - date) / 1000));
    }
  }
  if (lifetime === null) lifetime = status === 404 || status === 410 ? config.negativeTtl : ttls.defaultTtl;
  if (cc.has('no-cache')) lifetime = 0; // stored, but revalidated before every use
  const age = Number(headers.get('age')) || 0;
  const fresh = Math.max(0, Math.min(lifetime, ttls.maxTtl) - age);
  // must-revalidate / proxy-revalidate forbid serving stale copies at all.
  const noStale = cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('no-cache');
  return {
    store: true,
    freshness: {
      fresh,
      staleWhileRevalidate: noStale ? 0 : (seconds(cc, 'stale-while-revalidate') ?? ttls.staleWhileRevalidate),
      staleIfError: cc.has('no-cache') ? 0 : (seconds(cc, 'stale-if-error') ?? ttls.staleIfError),
      public: isPublic,
    },
  };
}

/** Vary names that matter for our stored bodies (Accept-Encoding does not: bodies are stored decoded). */
export function varyNames(headers: Headers): string[] {
  const vary = headers.get('vary');
  if (!vary) return [];
  return [...new Set(vary.split(',').map((v) => v.trim().toLowerCase()).filter((v) => v && v !== 'accept-encoding'))].sort();
}

/** Weak comparison of an If-None-Match list against an ETag. */
export function etagMatches(ifNoneMatch: string, etag: string | null): boolean {
  if (!etag) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  const target = strip(etag);
  return ifNoneMatch.split(',').some((t) => strip(t) === target);
}
