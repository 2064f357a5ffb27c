import type { MappedOrigin, UrlSpellings, UrlSyntax } from './url-mapper.ts';

/**
 * The spelling reader the server's SiteMapper uses for absolute URLs written in unusual ways:
 * character references and CSS escapes (per UrlSyntax), tabs and newlines, backslashes, any number of
 * slashes, userinfo, a trailing dot, percent-encoded or IDNA-mapped host characters, padded ports.
 * Kept apart from url-mapper.ts so that the client shim, where the browser's own URL parser reads such
 * spellings, does not carry it.
 */

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
  // Pure annotations: a bundle that imports url-mapper.ts without this module's export drops it whole.
  css: /* @__PURE__ */ cssReader(readPlain),
  'html-css': /* @__PURE__ */ cssReader(readHtml),
};

/** What a URL the parser could read as absolute cannot start with (after trimming), ASCII only. */
const NOT_A_START = /^[a-gi-zA-GI-Z0-9.?#_~!$'()*+,;=:-]/;

/** Longest authority looked at (a host name is at most 253 characters; userinfo and port add some). */
const MAX_AUTHORITY = 512;

/** The mirrored origin an authority (as the URL parser got it) names, or undefined. */
function lookupAuthority(
  authority: string,
  scheme: string | null,
  byHost: ReadonlyMap<string, MappedOrigin>,
  plain: (authority: string, scheme: string | null) => MappedOrigin | undefined | null,
): MappedOrigin | undefined {
  const lower = authority.toLowerCase();
  const direct = plain(lower, scheme);
  if (direct !== null) return direct;
  let parsed: URL;
  try {
    parsed = new URL(`${scheme ?? 'https:'}//${authority}/`);
  } catch {
    return undefined;
  }
  // "host." is the same DNS name as "host".
  const hostname = parsed.hostname.endsWith('.') ? parsed.hostname.slice(0, -1) : parsed.hostname;
  const port = parsed.port;
  const found = byHost.get(port ? `${hostname}:${port}` : hostname);
  if (found || scheme || port !== '80') return found;
  return byHost.get(hostname); // protocol-relative on an http page: :80 is the default
}

export const URL_SPELLINGS: UrlSpellings = {
  htmlCharAt: readHtml,

  match(url, syntax, byHost, plain) {
    // Cheap rejection of what cannot start a scheme, slashes, a reference, an escape or a control
    // character: path-relative URLs ("x.jpg", "2021/a.htm", "?p=2") end here.
    if (NOT_A_START.test(url)) return null;
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
    const origin = lookupAuthority(authority, scheme, byHost, plain);
    if (!origin) return null;
    if (c === 47 || c === 92) return { origin, rest: '/' + url.slice(i) };
    return { origin, rest: c < 0 ? '' : url.slice(pos) };
  },
};
