/**
 * CSS URL rewriting: url(...), @import "..." and the strings of image-set(...), in whole
 * stylesheets / style attributes (rewriteCss) or as a stream (createCssStreamRewriter).
 *
 * A single-pass scanner that follows CSS Syntax Level 3 tokenization closely enough to know
 * where URLs are: comments, strings, escapes, url tokens (incl. bad urls) and function nesting.
 * URL text is passed to mapUrl raw (escapes are not decoded); only the URL text is replaced,
 * quoting and surrounding whitespace stay as written. Pure and runtime-agnostic.
 */
import type { MapUrl } from './srcset.ts';

export type { MapUrl };

/** Streaming: the longest unfinished construct carried over to the next chunk (UTF-16 units). */
export const CSS_STREAM_MAX_CARRY = 64 * 1024;

// Character codes.
const TAB = 9;
const LF = 10;
const FF = 12;
const CR = 13;
const SPACE = 32;
const DQUOTE = 34;
const SQUOTE = 39;
const LPAREN = 40;
const RPAREN = 41;
const STAR = 42;
const HYPHEN = 45;
const SLASH = 47;
const AT = 64;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;

function isWs(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF;
}

function isNewline(c: number): boolean {
  return c === LF || c === CR || c === FF;
}

/** ASCII ident code points: letters, digits, '-', '_'. */
const NAME_ASCII = /* @__PURE__ */ (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    t[c] = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === HYPHEN || c === 95 ? 1 : 0;
  }
  return t;
})();

// Main-loop character classes (ASCII; everything from U+0080 is an ident code point).
const CLS_OTHER = 0; // a delim with no meaning here
const CLS_NAME = 1; // ident code point or '\\' (escape)
const CLS_WS = 2;
const CLS_SLASH = 3;
const CLS_QUOTE = 4;
const CLS_AT = 5;
const CLS_LPAREN = 6;
const CLS_RPAREN = 7;
const CLS_BRACE = 8;
const CHAR_CLASS = /* @__PURE__ */ (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (NAME_ASCII[c] === 1 || c === BACKSLASH) t[c] = CLS_NAME;
    else if (isWs(c)) t[c] = CLS_WS;
    else if (c === SLASH) t[c] = CLS_SLASH;
    else if (c === DQUOTE || c === SQUOTE) t[c] = CLS_QUOTE;
    else if (c === AT) t[c] = CLS_AT;
    else if (c === LPAREN) t[c] = CLS_LPAREN;
    else if (c === RPAREN) t[c] = CLS_RPAREN;
    else if (c === LBRACE || c === RBRACE) t[c] = CLS_BRACE;
    else t[c] = CLS_OTHER;
  }
  return t;
})();

/** Ident code point (letters, digits, '-', '_', non-ASCII). NaN (past the end) is false. */
function isNameChar(c: number): boolean {
  return c < 128 ? NAME_ASCII[c] === 1 : c >= 0x80;
}

/** U+0000 is not one: CSS preprocessing has made it U+FFFD, a valid url() code point, before tokenizing. */
function isNonPrintable(c: number): boolean {
  return (c >= 1 && c <= 8) || c === 11 || (c >= 14 && c <= 31) || c === 127;
}

/** Case-insensitive comparison of s[at, at + lower.length) with an ASCII-letters/hyphen literal. */
function matchesCI(s: string, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const want = lower.charCodeAt(k);
    const c = s.charCodeAt(at + k);
    if (want === HYPHEN ? c !== HYPHEN : (c | 32) !== want) return false;
  }
  return true;
}

/** image-set or a vendor-prefixed -xxx-image-set, given the name span [start, end). */
function isImageSetName(s: string, start: number, end: number): boolean {
  const n = end - start;
  if (n < 9 || !matchesCI(s, end - 9, 'image-set')) return false;
  return n === 9 || (s.charCodeAt(start) === HYPHEN && s.charCodeAt(end - 10) === HYPHEN);
}

/**
 * End of the ident run starting at i (escapes `\x` included). Stops before a `\` that is followed
 * by a newline or is the last character.
 */
function nameEnd(s: string, i: number, len: number): number {
  while (i < len) {
    const c = s.charCodeAt(i);
    if (isNameChar(c)) i++;
    else if (c === BACKSLASH) {
      if (i + 1 >= len || isNewline(s.charCodeAt(i + 1))) return i;
      if (!isHexDigit(s.charCodeAt(i + 1))) {
        i += 2;
        continue;
      }
      // A hex escape: up to 6 digits and one whitespace after them.
      let h = i + 1;
      while (h < len && h - i <= 6 && isHexDigit(s.charCodeAt(h))) h++;
      i = h < len && isWs(s.charCodeAt(h)) ? h + 1 : h;
    } else return i;
  }
  return len;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** `u\72l`, `\75 rl`: a function name spelled with escapes is still `url(` to the tokenizer. */
function isEscapedUrlName(s: string, i: number, e: number): boolean {
  if (e - i > 24 || s.indexOf('\\', i) < 0 || s.indexOf('\\', i) >= e) return false;
  let name = '';
  for (let k = i; k < e && name.length <= 3; ) {
    const c = s.charCodeAt(k);
    if (c !== BACKSLASH) {
      name += String.fromCharCode(c | 32);
      k++;
      continue;
    }
    let h = k + 1;
    while (h < e && h - k <= 6 && /[0-9a-fA-F]/.test(s[h]!)) h++;
    if (h === k + 1) {
      name += String.fromCharCode(s.charCodeAt(k + 1) | 32);
      k += 2;
      continue;
    }
    name += String.fromCodePoint(parseInt(s.slice(k + 1, h), 16) || 0xfffd).toLowerCase();
    k = h;
    // One whitespace after a hex escape belongs to it (nameEnd stopped before it when it ends the name).
    if (isWs(s.charCodeAt(k))) k++;
  }
  return name === 'url';
}

/** A name run ending at e might continue in the next chunk. */
function nameMayContinue(s: string, e: number, len: number): boolean {
  return e === len || (e === len - 1 && s.charCodeAt(e) === BACKSLASH);
}

// How a scan stopped before the end of a non-final buffer (what the carried tail is).
const STALL_NONE = 0;
const STALL_SHORT = 1; // '/', '@', '*' in a comment, '\' in a string: at most a few chars
const STALL_NAME = 2; // an ident / at-keyword run
const STALL_URL_WS = 3; // "url(" + whitespace
const STALL_URL_UNQUOTED = 4; // inside an unquoted url( ... ) (good or bad)
const STALL_URL_QUOTED = 5; // inside the string of url("...")
const STALL_STRING_URL = 6; // inside an @import / image-set string

// State "skip": inside a construct whose start was already emitted (no rewriting).
const SKIP_NONE = 0;
const SKIP_URL = 1; // until ')'
const SKIP_NAME = 2; // until the end of the ident run
// SKIP = DQUOTE / SQUOTE: until the end of the string.

// String scan results.
const STR_CLOSED = 0;
const STR_BAD = 1; // unescaped newline: bad-string, newline not consumed
const STR_EOF = 2; // end of final input (-1 is returned when more input is needed)

interface CssState {
  /** Open ( / function nesting, not counting url tokens. */
  depth: number;
  /** depth inside the image-set(...) being scanned (0: not in one): its top-level strings are URLs. */
  imageSetDepth: number;
  /** Just after an @import keyword (whitespace and comments since): a string here is a URL. */
  afterImport: boolean;
  inComment: boolean;
  skip: number;
}

function newState(): CssState {
  return { depth: 0, imageSetDepth: 0, afterImport: false, inComment: false, skip: SKIP_NONE };
}

/** Output of one scan. */
class Scan {
  out = '';
  copied = 0;
  changed = false;
  /** Everything before cut is final; the rest must be rescanned with more input. */
  cut = 0;
  stall = STALL_NONE;
  stallQuote = 0;
  /** Secondary result of scanString / scanBadUrl. */
  status = 0;
  pos = 0;

  replace(s: string, from: number, to: number, text: string): void {
    this.out += s.slice(this.copied, from) + text;
    this.copied = to;
    this.changed = true;
  }

  stop(at: number, stall: number, quote = 0): void {
    this.cut = at;
    this.stall = stall;
    this.stallQuote = quote;
  }

  /** The rewritten text of s[0, cut). */
  emitted(s: string): string {
    if (!this.changed) return this.cut === s.length ? s : s.slice(0, this.cut);
    return this.out + s.slice(this.copied, this.cut);
  }
}

/**
 * Scans a string body from i (after the opening quote). Returns the end (after the closing quote,
 * at the bad newline, or len) and sets r.status; -1 with r.pos when more input is needed
 * (r.pos: how far the body is certainly part of the string).
 */
function scanString(s: string, i: number, len: number, q: number, final: boolean, r: Scan): number {
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c === q) {
      r.status = STR_CLOSED;
      return i + 1;
    }
    if (c === BACKSLASH) {
      if (i + 1 >= len) {
        if (final) break;
        r.pos = i;
        return -1;
      }
      if (s.charCodeAt(i + 1) === CR) {
        // "\" + CRLF is one escaped newline.
        if (i + 2 >= len && !final) {
          r.pos = i;
          return -1;
        }
        i += s.charCodeAt(i + 2) === LF ? 3 : 2;
      } else i += 2;
      continue;
    }
    if (isNewline(c)) {
      r.status = STR_BAD;
      return i;
    }
    i++;
  }
  if (!final) {
    r.pos = len;
    return -1;
  }
  r.status = STR_EOF;
  return len;
}

/** Remnants of a bad url: up to and including ')'. -1 with r.pos when more input is needed. */
function scanBadUrl(s: string, i: number, len: number, final: boolean, r: Scan): number {
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c === RPAREN) return i + 1;
    if (c === BACKSLASH) {
      if (i + 1 >= len) {
        if (final) return len;
        r.pos = i;
        return -1;
      }
      i += 2;
    } else i++;
  }
  if (final) return len;
  r.pos = len;
  return -1;
}

/**
 * Makes replacement text valid inside a string quoted with q. The text is treated as raw CSS (its
 * escapes are kept): unescaped quotes and newlines are escaped, a dangling final `\` is doubled.
 */
function escapeForString(text: string, q: number): string {
  const len = text.length;
  let k = 0;
  for (; k < len; k++) {
    const c = text.charCodeAt(k);
    if (c === q || c === LF || c === CR || c === FF || c === BACKSLASH) break;
  }
  if (k === len) return text; // fast path: nothing special at all
  let out = text.slice(0, k);
  for (; k < len; k++) {
    const c = text.charCodeAt(k);
    if (c === BACKSLASH) {
      if (k + 1 >= len) out += '\\\\';
      else {
        out += text.slice(k, k + 2);
        k++;
      }
    } else if (c === q) out += '\\' + text[k];
    else if (c === LF) out += '\\a ';
    else if (c === CR) out += '\\d ';
    else if (c === FF) out += '\\c ';
    else out += text[k];
  }
  return out;
}

/**
 * Whether text (raw CSS, escapes kept) cannot stand as-is in an unquoted url(...): whitespace,
 * quotes, parentheses or control characters that are not escaped, or a dangling final `\`.
 */
function needsQuoting(text: string): boolean {
  const len = text.length;
  for (let k = 0; k < len; k++) {
    const c = text.charCodeAt(k);
    if (c === BACKSLASH) {
      if (k + 1 >= len || isNewline(text.charCodeAt(k + 1))) return true;
      k++;
    } else if ((c <= SPACE && c !== 0) || c === DQUOTE || c === SQUOTE || c === LPAREN || c === RPAREN || c === 127) return true;
  }
  return false;
}

function quoteUrl(text: string): string {
  if (text.indexOf('"') < 0 || text.indexOf("'") >= 0) return '"' + escapeForString(text, DQUOTE) + '"';
  return "'" + escapeForString(text, SQUOTE) + "'";
}

function mapUnquoted(s: string, from: number, to: number, mapUrl: MapUrl, r: Scan): void {
  if (from >= to) return;
  const url = s.slice(from, to);
  const mapped = mapUrl(url);
  if (mapped === null || mapped === url) return;
  r.replace(s, from, to, needsQuoting(mapped) ? quoteUrl(mapped) : mapped);
}

function mapQuoted(s: string, from: number, to: number, q: number, mapUrl: MapUrl, r: Scan): void {
  if (from >= to) return;
  const url = s.slice(from, to);
  const mapped = mapUrl(url);
  if (mapped === null || mapped === url) return;
  r.replace(s, from, to, escapeForString(mapped, q));
}

/**
 * Handles url( whose name starts at p and whose '(' is just before j. Returns where scanning
 * continues, or -1 after r.stop() when more input is needed.
 */
function scanUrl(s: string, p: number, j: number, len: number, st: CssState, final: boolean, mapUrl: MapUrl, r: Scan): number {
  let k = j;
  while (k < len && isWs(s.charCodeAt(k))) k++;
  if (k >= len) {
    if (final) return len;
    r.stop(p, STALL_URL_WS);
    return -1;
  }
  const first = s.charCodeAt(k);
  if (first === DQUOTE || first === SQUOTE) {
    // url("..."): a function token with a string argument; its ')' is closed by the main loop.
    const e = scanString(s, k + 1, len, first, final, r);
    if (e < 0) {
      r.stop(p, STALL_URL_QUOTED, first);
      return -1;
    }
    if (r.status !== STR_BAD) mapQuoted(s, k + 1, r.status === STR_CLOSED ? e - 1 : e, first, mapUrl, r);
    st.depth++;
    return e;
  }
  // Unquoted: a url token.
  let m = k;
  while (m < len) {
    const c = s.charCodeAt(m);
    if (c === RPAREN) {
      mapUnquoted(s, k, m, mapUrl, r);
      return m + 1;
    }
    if (isWs(c)) {
      const wsStart = m;
      do m++;
      while (m < len && isWs(s.charCodeAt(m)));
      if (m >= len) {
        if (!final) {
          r.stop(p, STALL_URL_UNQUOTED);
          return -1;
        }
        mapUnquoted(s, k, wsStart, mapUrl, r);
        return len;
      }
      if (s.charCodeAt(m) === RPAREN) {
        mapUnquoted(s, k, wsStart, mapUrl, r);
        return m + 1;
      }
      return badUrl(s, p, m, len, final, r);
    }
    if (c === DQUOTE || c === SQUOTE || c === LPAREN || isNonPrintable(c)) return badUrl(s, p, m, len, final, r);
    if (c === BACKSLASH) {
      if (m + 1 >= len) {
        if (!final) {
          r.stop(p, STALL_URL_UNQUOTED);
          return -1;
        }
        m++;
        continue;
      }
      if (isNewline(s.charCodeAt(m + 1))) return badUrl(s, p, m, len, final, r);
      m += 2;
      continue;
    }
    m++;
  }
  if (!final) {
    r.stop(p, STALL_URL_UNQUOTED);
    return -1;
  }
  mapUnquoted(s, k, len, mapUrl, r);
  return len;
}

function badUrl(s: string, p: number, m: number, len: number, final: boolean, r: Scan): number {
  const e = scanBadUrl(s, m, len, final, r);
  if (e < 0) r.stop(p, STALL_URL_UNQUOTED);
  return e;
}

/** Continues a construct whose start was already emitted. Returns the next index or -1 (r.cut set). */
function resumeSkip(s: string, len: number, st: CssState, final: boolean, r: Scan): number {
  const skip = st.skip;
  let e: number;
  if (skip === SKIP_URL) {
    e = scanBadUrl(s, 0, len, final, r);
    if (e < 0) {
      r.stop(r.pos, r.pos < len ? STALL_SHORT : STALL_NONE);
      return -1;
    }
  } else if (skip === SKIP_NAME) {
    e = nameEnd(s, 0, len);
    if (!final && nameMayContinue(s, e, len)) {
      r.stop(e, e < len ? STALL_SHORT : STALL_NONE);
      return -1;
    }
  } else {
    e = scanString(s, 0, len, skip, final, r);
    if (e < 0) {
      r.stop(r.pos, r.pos < len ? STALL_SHORT : STALL_NONE);
      return -1;
    }
  }
  st.skip = SKIP_NONE;
  return e;
}

/**
 * Scans s with state st, rewriting URLs into r. With final false, stops (r.cut) before a construct
 * that might continue past the end of s; st then describes the state at r.cut.
 */
function scan(s: string, st: CssState, final: boolean, mapUrl: MapUrl, r: Scan): void {
  const len = s.length;
  r.out = '';
  r.copied = 0;
  r.changed = false;
  r.stop(len, STALL_NONE);
  let i = 0;
  if (st.inComment) {
    const e = s.indexOf('*/');
    if (e < 0) {
      // Keep a final '*' back: it may be the start of "*/".
      if (!final && len > 0 && s.charCodeAt(len - 1) === STAR) r.stop(len - 1, STALL_SHORT);
      return;
    }
    st.inComment = false;
    i = e + 2;
  }
  if (st.skip !== SKIP_NONE) {
    i = resumeSkip(s, len, st, final, r);
    if (i < 0) return;
  }
  while (i < len) {
    const c = s.charCodeAt(i);
    switch (c < 128 ? CHAR_CLASS[c]! : CLS_NAME) {
      case CLS_OTHER:
        st.afterImport = false;
        i++;
        continue;
      case CLS_WS:
        i++;
        continue;
      case CLS_NAME: {
        const e = nameEnd(s, i, len);
        if (!final && nameMayContinue(s, e, len)) {
          r.stop(i, STALL_NAME);
          return;
        }
        if (e === i) {
          // '\' + newline (or '\' at the very end): a delim.
          st.afterImport = false;
          i++;
          continue;
        }
        st.afterImport = false;
        if (s.charCodeAt(e) === LPAREN) {
          if ((e - i === 3 && matchesCI(s, i, 'url')) || isEscapedUrlName(s, i, e)) {
            const next = scanUrl(s, i, e + 1, len, st, final, mapUrl, r);
            if (next < 0) return;
            i = next;
            continue;
          }
          st.depth++;
          if (st.imageSetDepth === 0 && isImageSetName(s, i, e)) st.imageSetDepth = st.depth;
          i = e + 1;
          continue;
        }
        i = e;
        continue;
      }
      case CLS_SLASH: {
        if (i + 1 >= len) {
          if (!final) {
            r.stop(i, STALL_SHORT);
            return;
          }
        } else if (s.charCodeAt(i + 1) === STAR) {
          const e = s.indexOf('*/', i + 2);
          if (e >= 0) {
            i = e + 2; // a comment: afterImport unchanged
            continue;
          }
          if (final) return;
          st.inComment = true;
          r.stop(len - 1 >= i + 2 && s.charCodeAt(len - 1) === STAR ? len - 1 : len, STALL_SHORT);
          return;
        }
        st.afterImport = false;
        i++;
        continue;
      }
      case CLS_QUOTE: {
        const urlContext = st.afterImport || (st.imageSetDepth !== 0 && st.depth === st.imageSetDepth);
        const e = scanString(s, i + 1, len, c, final, r);
        if (e < 0) {
          if (urlContext) r.stop(i, STALL_STRING_URL, c);
          else {
            // Not a URL: emit what we have, continue inside the string with the next chunk.
            st.afterImport = false;
            st.skip = c;
            r.stop(r.pos, r.pos < len ? STALL_SHORT : STALL_NONE);
          }
          return;
        }
        if (urlContext && r.status !== STR_BAD) mapQuoted(s, i + 1, r.status === STR_CLOSED ? e - 1 : e, c, mapUrl, r);
        st.afterImport = false;
        i = e;
        continue;
      }
      case CLS_AT: {
        if (i + 1 >= len) {
          if (!final) {
            r.stop(i, STALL_SHORT);
            return;
          }
          i++;
          continue;
        }
        const n = s.charCodeAt(i + 1);
        if (isNameChar(n) || n === BACKSLASH) {
          const e = nameEnd(s, i + 1, len);
          if (!final && nameMayContinue(s, e, len)) {
            r.stop(i, STALL_NAME);
            return;
          }
          if (e > i + 1) {
            st.afterImport = e - i - 1 === 6 && matchesCI(s, i + 1, 'import');
            i = e;
            continue;
          }
        }
        st.afterImport = false;
        i++;
        continue;
      }
      case CLS_LPAREN:
        st.afterImport = false;
        st.depth++;
        i++;
        continue;
      case CLS_RPAREN:
        st.afterImport = false;
        if (st.depth > 0) {
          if (st.depth === st.imageSetDepth) st.imageSetDepth = 0;
          st.depth--;
        }
        i++;
        continue;
      case CLS_BRACE:
        // Block boundaries: a well-formed value never spans them; recover from unbalanced parens.
        st.afterImport = false;
        st.depth = 0;
        st.imageSetDepth = 0;
        i++;
        continue;
    }
  }
}

/** Cheap test: can css contain anything rewriteCss would touch? (url(, @import, image-set) */
const MAYBE_URL = /url\(|@import|image-set|\\/i;

/**
 * Rewrites every URL in a stylesheet or style attribute: url(...) (any case, quoted or not),
 * @import "..." / @import url(...), and the strings of (-webkit-)image-set(...). Comments are
 * skipped. Returns the input string itself when nothing changed.
 */
export function rewriteCss(css: string, mapUrl: MapUrl): string {
  if (!MAYBE_URL.test(css)) return css;
  const r = new Scan();
  scan(css, newState(), true, mapUrl, r);
  return r.changed ? r.out + css.slice(r.copied) : css;
}

/** Could this chunk end a construct stalled as `stall`? (if not, rescanning is pointless) */
function mayEndStall(chunk: string, stall: number, q: number): boolean {
  if (stall === STALL_URL_UNQUOTED) {
    for (let k = 0; k < chunk.length; k++) {
      const c = chunk.charCodeAt(k);
      if (c <= SPACE || c === RPAREN || c === LPAREN || c === DQUOTE || c === SQUOTE || c === BACKSLASH || c === 127) {
        return true;
      }
    }
    return false;
  }
  if (stall === STALL_URL_QUOTED || stall === STALL_STRING_URL) {
    for (let k = 0; k < chunk.length; k++) {
      const c = chunk.charCodeAt(k);
      if (c === q || c === BACKSLASH || c === LF || c === CR || c === FF) return true;
    }
    return false;
  }
  return true;
}

/**
 * Streaming CSS rewriting. push() returns the rewritten text that is final now and carries any
 * unfinished construct (a url(...), an @import/image-set string, an ident that might become
 * "url(") over to the next chunk. Concatenated push() outputs + flush() equal rewriteCss() of the
 * whole input, except that a construct longer than CSS_STREAM_MAX_CARRY is emitted as-is (its URL
 * is not rewritten; scanning continues correctly after it).
 */
export function createCssStreamRewriter(mapUrl: MapUrl): { push(chunk: string): string; flush(): string } {
  const st = newState();
  const r = new Scan();
  let tail = '';
  let stall = STALL_NONE;
  let stallQuote = 0;

  /** Gives up on the carried construct: emit it as-is and skip the rest of it. */
  function overflow(): string {
    const out = tail;
    tail = '';
    st.afterImport = false;
    switch (stall) {
      case STALL_NAME:
        st.skip = SKIP_NAME;
        break;
      case STALL_URL_WS:
      case STALL_URL_UNQUOTED:
        st.skip = SKIP_URL;
        break;
      case STALL_URL_QUOTED:
        st.depth++;
        st.skip = stallQuote;
        break;
      case STALL_STRING_URL:
        st.skip = stallQuote;
        break;
    }
    stall = STALL_NONE;
    return out;
  }

  function run(buf: string, final: boolean): string {
    scan(buf, st, final, mapUrl, r);
    const out = r.emitted(buf);
    tail = r.cut < buf.length ? buf.slice(r.cut) : '';
    stall = tail === '' ? STALL_NONE : r.stall;
    stallQuote = r.stallQuote;
    if (tail.length > CSS_STREAM_MAX_CARRY) return out + overflow();
    return out;
  }

  return {
    push(chunk: string): string {
      if (chunk === '') return '';
      if (tail !== '' && !mayEndStall(chunk, stall, stallQuote)) {
        tail += chunk;
        return tail.length > CSS_STREAM_MAX_CARRY ? overflow() : '';
      }
      return run(tail === '' ? chunk : tail + chunk, false);
    },
    flush(): string {
      if (tail === '') return '';
      const buf = tail;
      tail = '';
      return run(buf, true);
    },
  };
}
