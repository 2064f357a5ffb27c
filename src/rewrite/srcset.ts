/**
 * srcset / imagesrcset rewriting, following the HTML spec's "parse a srcset attribute" algorithm
 * (https://html.spec.whatwg.org/multipage/images.html#parse-a-srcset-attribute) for splitting
 * candidates. Pure and runtime-agnostic: no Node APIs, no dependencies.
 */

/** Returns the replacement URL, or null to leave the URL unchanged. */
export type MapUrl = (url: string) => string | null;

// Spec "ASCII whitespace": TAB, LF, FF, CR, SPACE.
function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

const COMMA = 44;
const LPAREN = 40;
const RPAREN = 41;

/** Spans of the candidate found by parseCandidate (scratch; read into locals before calling out). */
let urlStart = 0;
let urlEnd = 0;
let descStart = 0;
let descEnd = 0;

/**
 * Parses one image candidate starting at `pos` (splitting loop of the spec). Fills the spans above
 * and returns the position to continue from, or -1 when no candidate is left.
 * Descriptors are kept as the raw text from their first to their last character: the spec's
 * tokenizer only matters here for where a candidate ends (a comma outside parentheses).
 */
function parseCandidate(value: string, pos: number, len: number): number {
  while (pos < len) {
    const c = value.charCodeAt(pos);
    if (isWs(c) || c === COMMA) pos++;
    else break;
  }
  if (pos >= len) return -1;
  urlStart = pos;
  while (pos < len && !isWs(value.charCodeAt(pos))) pos++;
  let end = pos;
  descStart = descEnd = pos;
  if (value.charCodeAt(end - 1) === COMMA) {
    // A URL's trailing commas end the candidate (no descriptors). The first character is never a
    // comma (skipped above), so the URL stays non-empty.
    do end--;
    while (value.charCodeAt(end - 1) === COMMA);
    urlEnd = end;
    return pos;
  }
  urlEnd = end;
  while (pos < len && isWs(value.charCodeAt(pos))) pos++;
  descStart = descEnd = pos;
  let inParens = false;
  while (pos < len) {
    const c = value.charCodeAt(pos);
    if (inParens) {
      if (c === RPAREN) inParens = false;
      pos++;
      descEnd = pos;
      continue;
    }
    if (c === COMMA) return pos + 1;
    if (!isWs(c)) {
      if (c === LPAREN) inParens = true;
      descEnd = pos + 1;
    }
    pos++;
  }
  return pos;
}

/**
 * Makes a replacement URL safe inside srcset: whitespace would split it, and leading/trailing
 * commas would be taken as separators. Such characters are percent-encoded.
 */
function srcsetSafe(url: string): string {
  const len = url.length;
  let bad = url.charCodeAt(0) === COMMA || url.charCodeAt(len - 1) === COMMA;
  if (!bad) {
    for (let i = 0; i < len; i++) {
      if (isWs(url.charCodeAt(i))) {
        bad = true;
        break;
      }
    }
  }
  if (!bad) return url;
  let out = '';
  let lead = true;
  let trailFrom = len;
  while (trailFrom > 0 && url.charCodeAt(trailFrom - 1) === COMMA) trailFrom--;
  for (let i = 0; i < len; i++) {
    const c = url.charCodeAt(i);
    if (isWs(c)) out += '%' + (c < 16 ? '0' : '') + c.toString(16).toUpperCase();
    else if (c === COMMA && (lead || i >= trailFrom)) out += '%2C';
    else out += url[i];
    if (c !== COMMA) lead = false;
  }
  return out;
}

function candidateText(value: string, url: string, ds: number, de: number): string {
  return de > ds ? url + ' ' + value.slice(ds, de) : url;
}

/**
 * Rewrites the URLs of a srcset value. Descriptors are kept exactly as written; when anything
 * changed, candidates are re-joined with ", ". Returns null when no URL changed, so the caller can
 * leave the attribute byte-for-byte untouched. Never throws on malformed input (mapUrl's own
 * exceptions propagate). A mapUrl result equal to the input or empty counts as "unchanged".
 */
export function rewriteSrcset(value: string, mapUrl: MapUrl): string | null {
  const len = value.length;
  let out: string | null = null;
  let pos = 0;
  for (;;) {
    const candStart = pos;
    const next = parseCandidate(value, pos, len);
    if (next < 0) break;
    const us = urlStart;
    const ue = urlEnd;
    const ds = descStart;
    const de = descEnd;
    const url = value.slice(us, ue);
    const mapped = mapUrl(url);
    if (mapped !== null && mapped !== url && mapped !== '') {
      if (out === null) out = rebuildPrefix(value, candStart);
      const text = candidateText(value, srcsetSafe(mapped), ds, de);
      out = out === '' ? text : out + ', ' + text;
    } else if (out !== null) {
      const text = candidateText(value, url, ds, de);
      out = out === '' ? text : out + ', ' + text;
    }
    pos = next;
  }
  return out;
}

/** The normalised text of the (unchanged) candidates in value[0, end). */
function rebuildPrefix(value: string, end: number): string {
  let out = '';
  let pos = 0;
  while (pos < end) {
    const next = parseCandidate(value, pos, end);
    if (next < 0) break;
    const text = candidateText(value, value.slice(urlStart, urlEnd), descStart, descEnd);
    out = out === '' ? text : out + ', ' + text;
    pos = next;
  }
  return out;
}
