import type { LinkAction, OriginConfig, SiteConfig } from '../config/types.ts';

/**
 * The one place that knows how origin URLs and mirror URLs correspond, for one site.
 *
 * Origin → mirror: an absolute or protocol-relative URL on a mirrored origin (its url or any alias,
 * host case-insensitive, default port ignored, http and https alike) becomes `mount + path + query + fragment`,
 * root-relative, with the bytes of path and query untouched. Mirror → origin is the inverse (request paths,
 * Referer, Origin). HTML, CSS, scripts, feeds and headers all call into this module.
 */

export interface MappedOrigin {
  /** Public origin as pages spell it, e.g. "https://i.epochtimes.com". */
  readonly url: string;
  /** "/" or "/_i/". */
  readonly mount: string;
  /** The mount without its trailing slash: "" for the root origin, "/_i" otherwise. */
  readonly mountBase: string;
  /** Host (with non-default port) of `url`, sent as the Host header upstream. */
  readonly host: string;
  /** Where requests are sent: `upstream` if configured, else `url`. */
  readonly connectTo: string;
}

/** Where a URL found in a document is being rewritten. */
export interface DocContext {
  /** The mirrored origin that served the document. */
  readonly origin: MappedOrigin;
  /** The document's original URL (origin url + path + query). */
  readonly url: string;
  /** The mirror's own scheme + host, e.g. "https://mirror.example", for places that need absolute URLs. */
  readonly mirrorOrigin: string;
}

const SPECIAL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const HTTP_ABSOLUTE = /^(https?:)?\/\//i;
/** ASCII whitespace that HTML strips around URL attribute values. */
const TRIM = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** "host[:port]" with the scheme's default port removed, lower-cased. */
function hostKey(authority: string, scheme: string | null): string {
  const host = authority.toLowerCase();
  if (host.endsWith(':443') && scheme !== 'http:') return host.slice(0, -4);
  if (host.endsWith(':80') && scheme !== 'https:') return host.slice(0, -3);
  return host;
}

export class SiteMapper {
  readonly origins: readonly MappedOrigin[];
  readonly root: MappedOrigin;
  private readonly byHost = new Map<string, MappedOrigin>();
  /** Non-root origins, longest mount first, for the inverse mapping. */
  private readonly mounted: MappedOrigin[];
  /** Matches absolute, protocol-relative and `\/`-escaped origin URL prefixes in script, JSON and feed text. */
  private readonly textPattern: RegExp;

  constructor(private readonly site: SiteConfig) {
    this.origins = site.origins.map((o: OriginConfig) => {
      const url = new URL(o.url);
      const mapped: MappedOrigin = {
        url: o.url,
        mount: o.mount,
        mountBase: o.mount.slice(0, -1),
        host: url.host,
        connectTo: o.upstream ?? o.url,
      };
      for (const spelling of [o.url, ...o.aliases]) this.byHost.set(new URL(spelling).host, mapped);
      return mapped;
    });
    this.root = this.origins.find((o) => o.mount === '/')!;
    this.mounted = this.origins.filter((o) => o !== this.root).sort((a, b) => b.mount.length - a.mount.length);
    const hosts = [...this.byHost.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    // scheme? + "//" (or "\/\/") + host + optional default port, not followed by more host characters.
    this.textPattern = new RegExp(
      `(?<![\\w\\\\:])(https?:)?(\\\\?/\\\\?/)(${hosts.join('|')})(?::(?:80|443))?(?![\\w.-]|:\\d)`,
      'gi',
    );
  }

  /** The mirrored origin an absolute or protocol-relative URL points at, and the rest of it (path, query, fragment). */
  matchAbsolute(url: string): { origin: MappedOrigin; rest: string } | null {
    const scheme = HTTP_ABSOLUTE.exec(url);
    if (!scheme) return null;
    const start = scheme[0].length;
    let end = start;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      // "/", "?", "#", "\"
      if (c === 47 || c === 63 || c === 35 || c === 92) break;
      end++;
    }
    const authority = url.slice(start, end);
    if (authority.includes('@')) return null; // credentials: never ours
    const origin = this.byHost.get(hostKey(authority, scheme[1]?.toLowerCase() ?? null));
    return origin ? { origin, rest: url.slice(end) } : null;
  }

  /**
   * Maps a URL found in a document to the mirror. Returns null when it stays as it is
   * (fragments, other schemes, unmirrored hosts, path-relative URLs).
   * With `absolute`, the result carries the mirror's scheme and host (feeds, og: meta).
   */
  toMirror(raw: string, doc: DocContext, absolute = false): string | null {
    const url = raw.includes('\n') || raw.includes('\t') || raw.includes('\r') || raw.charCodeAt(0) <= 32 || raw.charCodeAt(raw.length - 1) <= 32 ? raw.replace(TRIM, '') : raw;
    if (url === '' || url.charCodeAt(0) === 35 /* # */) return null;
    const first = url.charCodeAt(0);
    let path: string;
    if (first === 47 /* / */ && url.charCodeAt(1) !== 47 && url.charCodeAt(1) !== 92) {
      // Root-relative: resolves on the mirror already, except inside a mounted origin's pages.
      if (doc.origin.mountBase === '' && !absolute) return null;
      path = doc.origin.mountBase + url;
    } else {
      const hit = this.matchAbsolute(url);
      if (!hit) return null;
      const rest = hit.rest;
      path = hit.origin.mountBase + (rest.charCodeAt(0) === 47 ? rest : rest.charCodeAt(0) === 92 ? '/' + rest.slice(1) : '/' + rest);
    }
    return absolute ? doc.mirrorOrigin + path : path;
  }

  /** The original absolute URL a document URL stands for (for link rules and "keep"). */
  canonical(raw: string, doc: DocContext): string | null {
    const url = raw.replace(TRIM, '');
    if (url === '' || url.startsWith('#')) return null;
    const hit = this.matchAbsolute(url);
    if (hit) return hit.origin.url + (hit.rest.startsWith('/') ? hit.rest : '/' + hit.rest);
    if (SPECIAL_SCHEME.test(url) && !/^https?:/i.test(url)) return null;
    try {
      return new URL(url, doc.url).href;
    } catch {
      return null;
    }
  }

  /** What to do with an <a>/<area> href: links.rules first, then mirrored origins, then links.external. */
  linkAction(raw: string, doc: DocContext): { action: LinkAction; canonical: string | null } {
    const rules = this.site.links.rules;
    const needCanonical = rules.length > 0 || this.site.links.external !== 'keep';
    const canonical = needCanonical ? this.canonical(raw, doc) : null;
    if (canonical) {
      for (const rule of rules) if (canonical.startsWith(rule.prefix)) return { action: rule.action, canonical };
      if (this.site.links.external !== 'keep' && /^https?:/i.test(canonical) && !this.matchAbsolute(canonical)) {
        return { action: this.site.links.external, canonical };
      }
    }
    return { action: 'mirror', canonical };
  }

  /** Mirror path (+ query) → origin and origin path. Every mirror path maps somewhere (the root origin by default). */
  toOrigin(pathAndQuery: string): { origin: MappedOrigin; path: string } {
    for (const o of this.mounted) {
      if (pathAndQuery.startsWith(o.mount)) return { origin: o, path: pathAndQuery.slice(o.mountBase.length) };
    }
    return { origin: this.root, path: pathAndQuery };
  }

  /** A mirror URL (absolute, on `mirrorOrigin`) → the original URL, or null when it is not on the mirror. */
  mirrorUrlToOrigin(url: string, mirrorOrigin: string): string | null {
    if (!url.toLowerCase().startsWith(mirrorOrigin.toLowerCase())) return null;
    const rest = url.slice(mirrorOrigin.length);
    if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?') && !rest.startsWith('#')) return null;
    const { origin, path } = this.toOrigin(rest.startsWith('/') ? rest : '/' + rest);
    return origin.url + path;
  }

  /**
   * Rewrites origin URL prefixes inside script, JSON and feed text (absolute, protocol-relative and
   * `https:\/\/…`-escaped spellings) to absolute mirror URLs, keeping each spelling's escaping.
   */
  rewriteText(text: string, mirrorOrigin: string): string {
    this.textPattern.lastIndex = 0;
    if (!this.textPattern.test(text)) return text;
    this.textPattern.lastIndex = 0;
    const mirrorHost = mirrorOrigin.slice(mirrorOrigin.indexOf('//'));
    return text.replace(this.textPattern, (_m, scheme: string | undefined, slashes: string, host: string) => {
      const origin = this.byHost.get(host.toLowerCase())!;
      const replacement = (scheme ? mirrorOrigin : mirrorHost) + origin.mountBase;
      return slashes.length > 2 ? replacement.replace(/\//g, '\\/') : replacement;
    });
  }
}
