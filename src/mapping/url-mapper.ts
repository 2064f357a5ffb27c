import type { LinkAction, OriginConfig, SiteConfig } from '../config/types.ts';
import { URL_SPELLINGS } from './url-spellings.ts';

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

/**
 * How a URL is spelled where it was found: "url" as is (headers, decoded values), "html" in an
 * attribute value as written (character references not decoded: the engines give values raw),
 * "css" in CSS source (escapes not decoded), "html-css" in CSS inside an attribute (both).
 * The part after the host is kept as written whatever the syntax: the browser decodes it again.
 */
export type UrlSyntax = 'url' | 'html' | 'css' | 'html-css';

/**
 * Reads absolute URLs spelled in unusual ways (see ./url-spellings.ts, which the server uses). Without
 * it a SiteMapperCore matches only the plain spelling, and root-relative detection takes values as
 * written: what the client shim needs, after the browser's own URL parser has read the value.
 */
export interface UrlSpellings {
  /** The character at raw index `i` of an attribute value as the HTML tokenizer decodes it. */
  htmlCharAt(raw: string, i: number): number;
  /**
   * The origin an absolute or protocol-relative URL names, read as the URL parser does, and the rest
   * as written. `plain` answers a lower-cased plain authority (undefined: no origin), or null when the
   * authority needs the URL parser.
   */
  match(
    url: string,
    syntax: UrlSyntax,
    byHost: ReadonlyMap<string, MappedOrigin>,
    plain: (authority: string, scheme: string | null) => MappedOrigin | undefined | null,
  ): { origin: MappedOrigin; rest: string } | null;
}

/**
 * Root-origin paths that would collide with a mount (or with this prefix itself) are spelled
 * `/_root` + path on the mirror, so that origin → mirror is a bijection (see docs/configuration.md).
 */
export const ROOT_ESCAPE = '/_root';

const SPECIAL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const HTTP_ABSOLUTE = /^(https?:)?\/\//i;
/**
 * A root-relative URL whose second character no reader could take for a slash, made only of characters
 * the URL parser leaves as they are in a path and a special URL's query (see SiteMapper.canonical).
 */
const SAFE_ROOT_PATH = /^\/[A-Za-z0-9_~-][A-Za-z0-9._~!$&()*+,;=:@\/%?-]*$/;
/** Cached authorities per mapper (see SiteMapper.plainHosts). */
const PLAIN_HOSTS_MAX = 1024;
/** C0 controls and spaces, which the URL parser strips around a URL (not NUL: HTML makes it U+FFFD). */
const TRIM = /^[\x01-\x20]+|[\x01-\x20]+$/g;
/** Tab and newlines, which the URL parser removes wherever they are. */
const TAB_OR_NEWLINE = /[\t\n\r]/g;
/** An authority the lookup table can answer as is: no userinfo, escapes, trailing dot or odd port. */
const PLAIN_AUTHORITY = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[1-9][0-9]*)?$/;

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

/** `path` is `base` itself or continues it with "/" or "?". */
function atBoundary(path: string, base: string): boolean {
  if (!path.startsWith(base)) return false;
  const c = path.charCodeAt(base.length);
  return Number.isNaN(c) || c === 47 || c === 63;
}

function restPath(path: string, from: number): string {
  return path.charCodeAt(from) === 47 ? path.slice(from) : '/' + path.slice(from);
}

/** The mapping without the spelling reader (see UrlSpellings): what the client shim bundles. */
export class SiteMapperCore {
  readonly origins: readonly MappedOrigin[];
  readonly root: MappedOrigin;
  private readonly byHost = new Map<string, MappedOrigin>();
  /** Non-root origins, longest mount first, for the inverse mapping. */
  private readonly mounted: MappedOrigin[];
  /** Matches absolute, protocol-relative and `\/`-escaped origin URL prefixes in script, JSON and feed text. */
  private readonly textPattern: RegExp;
  /** Path prefixes a root-origin path must not start with on the mirror (see collides). */
  private readonly escapedBases: string[];

  constructor(
    protected readonly site: SiteConfig,
    private readonly spellings: UrlSpellings | null = null,
  ) {
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
    // The mirror's own endpoints live under /_mirror/: a root-origin path there is escaped too.
    this.escapedBases = [...this.mounted.map((o) => o.mountBase), ROOT_ESCAPE, '/_mirror'];
    const hosts = [...this.byHost.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    // scheme? + "//" (or "\/\/") + host + optional default port, not followed by more host characters.
    this.textPattern = new RegExp(
      `(?<![\\w\\\\:])(https?:)?(\\\\?/\\\\?/)(${hosts.join('|')})(?::(?:80|443))?(?![\\w.-]|:\\d)`,
      'gi',
    );
  }

  /**
   * The mirrored origin an absolute or protocol-relative URL points at, and the rest of it (path,
   * query, fragment, as written). With the spelling reader, any spelling the WHATWG URL parser reads
   * as that host counts (see ./url-spellings.ts); without it, only the plain one.
   */
  matchAbsolute(url: string, syntax: UrlSyntax = 'url'): { origin: MappedOrigin; rest: string } | null {
    // Fast path: the plain spelling nearly every origin URL uses.
    const scheme = HTTP_ABSOLUTE.exec(url);
    if (scheme) {
      const start = scheme[0].length;
      let end = start;
      while (end < url.length) {
        const c = url.charCodeAt(end);
        // "/", "?", "#", "\"
        if (c === 47 || c === 63 || c === 35 || c === 92) break;
        end++;
      }
      const authority = url.slice(start, end);
      if (PLAIN_AUTHORITY.test(authority) && !(url.charCodeAt(end) === 92 && syntax !== 'url' && syntax !== 'html')) {
        const origin = this.plainOrigin(authority, scheme[1]?.toLowerCase() ?? null);
        if (origin) return { origin, rest: url.slice(end) };
        return null; // a plain other host: the parser would read it the same way
      }
    }
    return this.spellings?.match(url, syntax, this.byHost, (a, sch) => (PLAIN_AUTHORITY.test(a) ? this.byHost.get(hostKey(a, sch)) : null)) ?? null;
  }

  /** The origin a plain authority (PLAIN_AUTHORITY) names; SiteMapper remembers the answers. */
  protected plainOrigin(authority: string, scheme: string | null): MappedOrigin | undefined {
    return this.byHost.get(hostKey(authority, scheme));
  }

  /**
   * Whether a root-relative path on the root origin would be taken for another origin's (a mount,
   * `/_i` alone, or the escape prefix), or for another host (`//x`, `/\x`: scheme-relative to a browser):
   * such paths are escaped with ROOT_ESCAPE.
   */
  collides(path: string): boolean {
    if (path.charCodeAt(0) !== 47) return false;
    const second = path.charCodeAt(1);
    if (second === 47 || second === 92) return true;
    for (const base of this.escapedBases) {
      if (!path.startsWith(base)) continue;
      const c = path.charCodeAt(base.length);
      // end, "/", "?", "#", "\"
      if (Number.isNaN(c) || c === 47 || c === 63 || c === 35 || c === 92) return true;
    }
    return false;
  }

  /**
   * Maps a URL found in a document to the mirror. Returns null when it stays as it is
   * (fragments, other schemes, unmirrored hosts, path-relative URLs).
   * With `absolute`, the result carries the mirror's scheme and host (feeds, og: meta).
   * `syntax` says how the value is spelled where it was found (see UrlSyntax).
   */
  toMirror(raw: string, doc: DocContext, absolute = false, syntax: UrlSyntax = 'url'): string | null {
    let url = raw;
    if (url.charCodeAt(0) <= 32 || url.charCodeAt(url.length - 1) <= 32) url = url.replace(TRIM, '');
    if (url.includes('\n') || url.includes('\t') || url.includes('\r')) url = url.replace(TAB_OR_NEWLINE, '');
    if (url === '' || url.charCodeAt(0) === 35 /* # */) return null;
    const first = url.charCodeAt(0);
    let path: string;
    // "/&#x2F;host" is "//host" in an attribute: such spellings are not root-relative.
    let second = url.charCodeAt(1);
    if (second === 38 && this.spellings && (syntax === 'html' || syntax === 'html-css')) second = this.spellings.htmlCharAt(url, 1);
    if (first === 47 /* / */ && second !== 47 && second !== 92) {
      // Root-relative: resolves on the mirror already, except inside a mounted origin's pages and
      // where the path is one the mirror would take for another origin's.
      if (doc.origin.mountBase === '') {
        if (this.collides(url)) path = ROOT_ESCAPE + url;
        else if (!absolute) return null;
        else path = url;
      } else path = doc.origin.mountBase + url;
    } else {
      const hit = this.matchAbsolute(url, syntax);
      if (!hit) return null;
      const rest = hit.rest;
      const restPath = rest.charCodeAt(0) === 47 ? rest : rest.charCodeAt(0) === 92 ? '/' + rest.slice(1) : '/' + rest;
      path = hit.origin === this.root && this.collides(restPath) ? ROOT_ESCAPE + restPath : hit.origin.mountBase + restPath;
    }
    return absolute ? doc.mirrorOrigin + path : path;
  }

  /**
   * Mirror path (+ query) → origin and origin path. Every mirror path maps somewhere (the root origin
   * by default). A mount without its slash ("/_i", "/_i?x") is that origin's "/": script text that
   * names a bare origin host ("https://i.epochtimes.com") becomes "/_i" (see rewriteText).
   */
  toOrigin(pathAndQuery: string): { origin: MappedOrigin; path: string } {
    if (atBoundary(pathAndQuery, ROOT_ESCAPE)) return { origin: this.root, path: restPath(pathAndQuery, ROOT_ESCAPE.length) };
    for (const o of this.mounted) {
      if (atBoundary(pathAndQuery, o.mountBase)) return { origin: o, path: restPath(pathAndQuery, o.mountBase.length) };
    }
    return { origin: this.root, path: pathAndQuery };
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
    return text.replace(this.textPattern, (m: string, scheme: string | undefined, slashes: string, host: string, at: number) => {
      const origin = this.byHost.get(host.toLowerCase())!;
      let base = origin.mountBase;
      if (origin === this.root) {
        // A root-origin path the mirror would take for a mount's: escaped as in toMirror.
        const after = text.slice(at + m.length, at + m.length + 64);
        if (this.collides(slashes.length > 2 ? after.replaceAll('\\/', '/') : after)) base = ROOT_ESCAPE;
      }
      const replacement = (scheme ? mirrorOrigin : mirrorHost) + base;
      return slashes.length > 2 ? replacement.replace(/\//g, '\\/') : replacement;
    });
  }
}

/**
 * The server's mapper: SiteMapperCore with the spelling reader of ./url-spellings.ts, and what only
 * the server asks (link rules, original URLs), which the client shim does not carry.
 */
export class SiteMapper extends SiteMapperCore {
  /** Plain authorities without a port (PLAIN_AUTHORITY, so lower case) → their origin or null (bounded). */
  private readonly plainHosts = new Map<string, MappedOrigin | null>();

  constructor(site: SiteConfig) {
    super(site, URL_SPELLINGS);
  }

  // A link is matched twice in a row (its link rule's canonical URL, then its mirror URL): the last
  // answer is kept (matching is a pure function of the URL and its syntax).
  private lastUrl = '';
  private lastSyntax: UrlSyntax = 'url';
  private lastHit: { origin: MappedOrigin; rest: string } | null = null;
  override matchAbsolute(url: string, syntax: UrlSyntax = 'url'): { origin: MappedOrigin; rest: string } | null {
    if (url === this.lastUrl && syntax === this.lastSyntax && url !== '') return this.lastHit;
    const hit = super.matchAbsolute(url, syntax);
    this.lastUrl = url;
    this.lastSyntax = syntax;
    this.lastHit = hit;
    return hit;
  }

  // The same few hosts recur on every page: one without a port is looked up once (no default port to drop).
  protected override plainOrigin(authority: string, scheme: string | null): MappedOrigin | undefined {
    const known = this.plainHosts.get(authority);
    if (known !== undefined) return known ?? undefined;
    const origin = super.plainOrigin(authority, scheme);
    if (!authority.includes(':')) {
      if (this.plainHosts.size >= PLAIN_HOSTS_MAX) this.plainHosts.clear();
      this.plainHosts.set(authority, origin ?? null);
    }
    return origin;
  }

  /** The original absolute URL a document URL stands for (for link rules and "keep"). */
  canonical(raw: string, doc: DocContext, syntax: UrlSyntax = 'url'): string | null {
    let url = raw;
    if (url.charCodeAt(0) <= 32 || url.charCodeAt(url.length - 1) <= 32) url = url.replace(TRIM, '');
    if (url.includes('\n') || url.includes('\t') || url.includes('\r')) url = url.replace(TAB_OR_NEWLINE, '');
    if (url === '' || url.startsWith('#')) return null;
    // Fast path: a root-relative path the URL parser would keep byte for byte (no dot segments, nothing
    // it percent-encodes, no reference or escape that could spell "//") is the document's origin + it.
    if (SAFE_ROOT_PATH.test(url) && !url.includes('/.') && !/%2e/i.test(url)) {
      const prefix = this.docPrefix(doc.url);
      if (prefix !== null) return prefix + url;
    }
    const hit = this.matchAbsolute(url, syntax);
    if (hit) return hit.origin.url + (hit.rest.startsWith('/') ? hit.rest : '/' + hit.rest);
    if (SPECIAL_SCHEME.test(url) && !/^https?:/i.test(url)) return null;
    try {
      return new URL(url, doc.url).href;
    } catch {
      return null;
    }
  }

  private lastDocUrl = '';
  private lastDocPrefix: string | null = null;
  /** The document URL's href up to its path ("https://host[:port]"), for http(s) URLs; null otherwise. */
  private docPrefix(docUrl: string): string | null {
    if (docUrl !== this.lastDocUrl) {
      let prefix: string | null = null;
      try {
        const base = new URL(docUrl);
        if (base.protocol === 'http:' || base.protocol === 'https:') prefix = base.href.slice(0, base.href.length - (base.pathname + base.search + base.hash).length);
      } catch {
        prefix = null;
      }
      this.lastDocUrl = docUrl;
      this.lastDocPrefix = prefix;
    }
    return this.lastDocPrefix;
  }

  /** What to do with an <a>/<area> href: links.rules first, then mirrored origins, then links.external. */
  linkAction(raw: string, doc: DocContext, syntax: UrlSyntax = 'url'): { action: LinkAction; canonical: string | null } {
    const rules = this.site.links.rules;
    const needCanonical = rules.length > 0 || this.site.links.external !== 'keep';
    const canonical = needCanonical ? this.canonical(raw, doc, syntax) : null;
    if (canonical) {
      for (const rule of rules) if (canonical.startsWith(rule.prefix)) return { action: rule.action, canonical };
      if (this.site.links.external !== 'keep' && /^https?:/i.test(canonical) && !this.matchAbsolute(canonical)) {
        return { action: this.site.links.external, canonical };
      }
    }
    return { action: 'mirror', canonical };
  }

  /** A mirror URL (absolute, on `mirrorOrigin`) → the original URL, or null when it is not on the mirror. */
  mirrorUrlToOrigin(url: string, mirrorOrigin: string): string | null {
    if (!url.toLowerCase().startsWith(mirrorOrigin.toLowerCase())) return null;
    const rest = url.slice(mirrorOrigin.length);
    if (rest !== '' && !rest.startsWith('/') && !rest.startsWith('?') && !rest.startsWith('#')) return null;
    const { origin, path } = this.toOrigin(rest.startsWith('/') ? rest : '/' + rest);
    return origin.url + path;
  }
}
