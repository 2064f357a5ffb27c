import type { MirrorConfig, SiteConfig } from '../config/types.ts';
import { SiteMapper } from '../mapping/url-mapper.ts';

export interface Site {
  config: SiteConfig;
  mapper: SiteMapper;
}

/**
 * A Host header the mirror accepts: a DNS name (letters, digits, '-', '_', dots), an IPv4 address or a
 * bracketed IPv6 literal, with an optional port. Anything else (quotes, spaces, '<', '%', …) would end
 * up in rewritten pages, cache keys and headers, so it is refused before it reaches any of them.
 */
const VALID_HOST = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?|\[[0-9a-f:.]{2,45}\])(?::[0-9]{1,5})?$/i;

export function isValidHost(host: string): boolean {
  return host.length <= 261 && VALID_HOST.test(host);
}

/** Picks the site for a Host header: exact names first, then "*.domain" (longest first), then "*". */
export class SiteRouter {
  private readonly exact = new Map<string, Site>();
  private readonly wildcards: [suffix: string, site: Site][] = [];
  private fallback: Site | null = null;
  readonly sites: Site[];

  constructor(config: MirrorConfig) {
    this.sites = config.sites.map((c) => ({ config: c, mapper: new SiteMapper(c) }));
    for (const site of this.sites) {
      for (const host of site.config.hosts) {
        if (host === '*') this.fallback ??= site;
        else if (host.startsWith('*.')) this.wildcards.push([host.slice(1), site]);
        else if (!this.exact.has(host)) this.exact.set(host, site);
      }
    }
    this.wildcards.sort((a, b) => b[0].length - a[0].length);
  }

  /** `host` as sent by the client (port ignored, case-insensitive). */
  route(host: string | null): Site | null {
    if (!host) return this.fallback;
    let name = host.toLowerCase();
    const colon = name.lastIndexOf(':');
    if (colon > 0 && !name.endsWith(']')) name = name.slice(0, colon);
    if (name.endsWith('.')) name = name.slice(0, -1);
    const hit = this.exact.get(name);
    if (hit) return hit;
    for (const [suffix, site] of this.wildcards) if (name.endsWith(suffix) && name.length > suffix.length) return site;
    return this.fallback;
  }
}
