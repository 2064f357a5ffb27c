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

/**
 * How a URL is spelled where it was found: "url" as is (headers, decoded values), "html" in an
 * attribute value as written (character references not decoded: the engines give values raw),
 * "css" in CSS source (escapes not decoded), "html-css" in CSS inside an attribute (both).
 * The part after the host is kept as written whatever the syntax: the browser decodes it again.
 */
export type UrlSyntax = 'url' | 'html' | 'css' | 'html-css';

/**
 * Root-origin paths that would collide with a mount (or with this prefix itself) are spelled
 * `/_root` + path on the mirror, so that origin → mirror is a bijection (see docs/configuration.md).
 */
export const ROOT_ESCAPE = '/_root';

const SPECIAL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const HTTP_ABSOLUTE = /^(https?:)?\/\//i;
/** C0 controls and spaces, which the URL parser strips around a URL (not NUL: HTML makes it U+FFFD). */
const TRIM = /^[\x01-\x20]+|[\x01-\x20]+$/g;
/** Tab and newlines, which the URL parser removes wherever they are. */
const TAB_OR_NEWLINE = /[\t\n\r]/g;
/** An authority the lookup table can answer as is: no userinfo, escapes, trailing dot or odd port. */
const PLAIN_AUTHORITY = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[1-9][0-9]*)?$/;

/** Named character references that spell URL punctuation (the rest never occur in a scheme or host). */
const NAMED_REFS: Record<string, number> = {
  colon: 58, sol: 47, bsol: 92, period: 46, quest: 63, num: 35, commat: 64, Tab: 9, NewLine: 10, amp: 38,
  percnt: 37, lowbar: 95, semi: 59, equals: 61, plus: 43, comma: 44, excl: 33, dollar: 36, hyphen: 0x2010,
};

/** Where the last read*() call stopped in the raw string. */
let readEnd = 0;

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function validCodePoint(n: number): number {
  return n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? 0xfffd : n;
}

/** One character of a raw string. */
function readPlain(raw: string, i: number): number {
  const c = raw.codePointAt(i)!;
  readEnd = i + (c > 0xffff ? 2 : 1);
  return c;
}

/** One character of an attribute value as the HTML tokenizer decodes it (the references above, numeric ones, `&amp`). */
function readHtml(raw: string, i: number): number {
  const c = raw.charCodeAt(i);
  if (c !== 38 /* & */) return readPlain(raw, i);
  let j = i + 1;
  if (raw.charCodeAt(j) === 35 /* # */) {
    j++;
    const hex = raw.charCodeAt(j) === 120 || raw.charCodeAt(j) === 88;
    if (hex) j++;
    const start = j;
    let n = 0;
    while (j < raw.length && j - start < 8) {
      const d = raw.charCodeAt(j);
      if (hex ? !isHex(d) : d < 48 || d > 57) break;
      n = n * (hex ? 16 : 10) + parseInt(raw[j]!, 16);
      j++;
    }
    if (j === start) return readPlain(raw, i);
    while (j < raw.length && (hex ? isHex(raw.charCodeAt(j)) : raw.charCodeAt(j) >= 48 && raw.charCodeAt(j) <= 57)) {
      n = 0x110000; // more digits than any code point has
      j++;
    }
    if (raw.charCodeAt(j) === 59) j++;
    readEnd = j;
    return validCodePoint(n);
  }
  const m = /^[a-zA-Z]{2,8};?/.exec(raw.slice(j, j + 9));
  if (m) {
    const semi = m[0].endsWith(';');
    const name = semi ? m[0].slice(0, -1) : m[0];
    const code = semi ? NAMED_REFS[name] : name.startsWith('amp') ? 38 : undefined;
    if (code !== undefined) {
      readEnd = j + (semi ? m[0].length : 3);
      return code;
    }
  }
  return readPlain(raw, i);
}

/** One character of CSS source as its tokenizer decodes escapes, over a lower layer (`readPlain` or `readHtml`). */
function cssReader(lower: (raw: string, i: number) => number): (raw: string, i: number) => number {
  return (raw, i) => {
    const c = lower(raw, i);
    if (c !== 92 /* \ */ || readEnd >= raw.length) return c;
    const afterSlash = readEnd;
    const d = lower(raw, afterSlash);
    if (d === 10 || d === 12 || d === 13) {
      readEnd = afterSlash; // not an escape: a literal backslash
      return c;
    }
    if (!isHex(d)) return d;
    let n = 0;
    let j = afterSlash;
    for (let k = 0; k < 6 && j < raw.length; k++) {
      const h = lower(raw, j);
      if (!isHex(h)) break;
      n = n * 16 + parseInt(String.fromCharCode(h), 16);
      j = readEnd;
    }
    if (j < raw.length) {
      const w = lower(raw, j);
      if (w === 32 || w === 9 || w === 10 || w === 12 || w === 13) j = readEnd;
    }
    readEnd = j;
    return validCodePoint(n);
  };
}

const READERS: Record<UrlSyntax, (raw: string, i: number) => number> = {
  url: readPlain,
  html: readHtml,
  css: cssReader(readPlain),
  'html-css': cssReader(readHtml),
};

/** ASCII characters a URL the parser could read as absolute cannot start with (after trimming). */
const NOT_A_START = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-gi-zA-GI-Z0-9.?#_~!$'()*+,;=:-]/.test(ch)) NOT_A_START[c] = 1;
}

/** Longest authority looked at (a host name is at most 253 characters; userinfo and port add some). */
const MAX_AUTHORITY = 512;

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

export class SiteMapper {
  readonly origins: readonly MappedOrigin[];
  readonly root: MappedOrigin;
  private readonly byHost = new Map<string, MappedOrigin>();
  /** Non-root origins, longest mount first, for the inverse mapping. */
  private readonly mounted: MappedOrigin[];
  /** Matches absolute, protocol-relative and `\/`-escaped origin URL prefixes in script, JSON and feed text. */
  private readonly textPattern: RegExp;
  /** Path prefixes a root-origin path must not start with on the mirror (see collides). */
  private readonly escapedBases: string[];

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
   * query, fragment, as written). Any spelling the WHATWG URL parser reads as that host counts:
   * character references or CSS escapes (per `syntax`), tabs and newlines, backslashes, any number of
   * slashes, userinfo, a trailing dot, percent-encoded or IDNA-mapped host characters, padded ports.
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
        const origin = this.byHost.get(hostKey(authority, scheme[1]?.toLowerCase() ?? null));
        if (origin) return { origin, rest: url.slice(end) };
        return null; // a plain other host: the parser would read it the same way
      }
    }
    return this.matchSpelled(url, syntax);
  }

  /** matchAbsolute's general case: reads the scheme and authority the way the URL parser does. */
  private matchSpelled(url: string, syntax: UrlSyntax): { origin: MappedOrigin; rest: string } | null {
    // Cheap rejection of what cannot start a scheme, slashes, a reference, an escape or a control
    // character: path-relative URLs ("x.jpg", "2021/a.htm", "?p=2") end here.
    const first = url.charCodeAt(0);
    if (first < 128 && NOT_A_START[first] === 1) return null;
    const read = READERS[syntax];
    const len = url.length;
    let i = 0; // raw index of the next character
    let pos = 0; // raw index of the current character `c`
    let c = -1;
    const next = (): void => {
      // Tab and newlines vanish wherever they are; -1 is the end.
      while (i < len) {
        pos = i;
        c = read(url, i);
        i = readEnd;
        if (c !== 9 && c !== 10 && c !== 13) return;
      }
      pos = len;
      c = -1;
    };
    next();
    while (c >= 1 && c <= 32) next(); // leading C0 controls and spaces (a NUL is U+FFFD in HTML)
    // Scheme: "http:" or "https:" (any case), or none when two slashes follow.
    let scheme: string | null = null;
    if ((c | 32) === 104 /* h */) {
      let name = '';
      while (c >= 0 && name.length < 6 && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) {
        name += String.fromCharCode(c | 32);
        next();
      }
      if (c !== 58 /* : */ || (name !== 'http' && name !== 'https')) return null;
      scheme = name + ':';
      next();
    }
    let slashes = 0;
    while (c === 47 || c === 92) {
      slashes++;
      next();
    }
    if (!scheme && slashes < 2) return null;
    let authority = '';
    while (c >= 0 && c !== 47 && c !== 92 && c !== 63 && c !== 35) {
      authority += String.fromCodePoint(c);
      if (authority.length > MAX_AUTHORITY) return null;
      next();
    }
    if (authority === '') return null;
    const origin = this.lookupAuthority(authority, scheme);
    if (!origin) return null;
    if (c === 47 || c === 92) return { origin, rest: '/' + url.slice(i) };
    return { origin, rest: c < 0 ? '' : url.slice(pos) };
  }

  /** The mirrored origin an authority (as the URL parser got it) names, or undefined. */
  private lookupAuthority(authority: string, scheme: string | null): MappedOrigin | undefined {
    const lower = authority.toLowerCase();
    if (PLAIN_AUTHORITY.test(lower)) return this.byHost.get(hostKey(lower, scheme));
    let parsed: URL;
    try {
      parsed = new URL(`${scheme ?? 'https:'}//${authority}/`);
    } catch {
      return undefined;
    }
    // "host." is the same DNS name as "host".
    const hostname = parsed.hostname.endsWith('.') ? parsed.hostname.slice(0, -1) : parsed.hostname;
    const port = parsed.port;
    const found = this.byHost.get(port ? `${hostname}:${port}` : hostname);
    if (found || scheme || port !== '80') return found;
    return this.byHost.get(hostname); // protocol-relative on an http page: :80 is the default
  }

  /**
   * Whether a root-relative path on the root origin would be taken for another origin's (a mount,
   * `/_i` alone, or the escape prefix): such paths are escaped with ROOT_ESCAPE.
   */
  collides(path: string): boolean {
    if (path.charCodeAt(0) !== 47) return false;
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
    if (second === 38 && (syntax === 'html' || syntax === 'html-css')) second = readHtml(url, 1);
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

  /** The original absolute URL a document URL stands for (for link rules and "keep"). */
  canonical(raw: string, doc: DocContext, syntax: UrlSyntax = 'url'): string | null {
    const url = raw.replace(TRIM, '').replace(TAB_OR_NEWLINE, '');
    if (url === '' || url.startsWith('#')) return null;
    const hit = this.matchAbsolute(url, syntax);
    if (hit) return hit.origin.url + (hit.rest.startsWith('/') ? hit.rest : '/' + hit.rest);
    if (SPECIAL_SCHEME.test(url) && !/^https?:/i.test(url)) return null;
    try {
      return new URL(url, doc.url).href;
    } catch {
      return null;
    }
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
