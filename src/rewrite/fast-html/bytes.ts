/** Byte helpers for the fast HTML engine (UTF-8 in, UTF-8 out; tags are ASCII). */

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();

export function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 12 || c === 13;
}
export function isAlpha(c: number): boolean {
  const l = c | 32;
  return l >= 97 && l <= 122;
}

/** Decodes bytes as UTF-8, invalid sequences as U+FFFD (what lol-html hands to handlers). */
export function decode(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}

/** The ASCII-lower-cased UTF-8 decoding of a name. */
export function lowerName(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (c >= 0x80) return decode(buf, start, end).replace(/[A-Z]+/g, (m) => m.toLowerCase());
    if (c >= 65 && c <= 90) c += 32;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * lowerName for tag and attribute names, through a fixed-size table of names seen before: the same few
 * dozen names recur on every page, so most calls return a stored string without building one.
 * Names over 24 bytes or with non-ASCII bytes are not stored.
 */
const INTERN_SLOTS = 1024;
const internBytes: (Uint8Array | undefined)[] = new Array(INTERN_SLOTS);
const internStrings: string[] = new Array(INTERN_SLOTS);
export function internName(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > 24) return lowerName(buf, start, end);
  let h = n;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return lowerName(buf, start, end);
    h = (Math.imul(h, 31) + (c | (c >= 65 && c <= 90 ? 32 : 0))) | 0;
  }
  const slot = (h ^ (h >>> 10)) & (INTERN_SLOTS - 1);
  const stored = internBytes[slot];
  if (stored !== undefined && equalsLower(buf, start, end, stored)) return internStrings[slot]!;
  const name = lowerName(buf, start, end);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = name.charCodeAt(i);
  internBytes[slot] = bytes;
  internStrings[slot] = name;
  return name;
}

/** Whether buf[start..end) equals the lower-case ASCII `name` ASCII-case-insensitively. */
export function equalsLower(buf: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = buf[start + i]!;
    if (c >= 65 && c <= 90) c += 32;
    if (c !== name[i]) return false;
  }
  return true;
}

export function encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A growable output buffer: input bytes are copied in, strings encoded in place; taken in large chunks. */
export class Output {
  buf: Uint8Array;
  len = 0;
  constructor(initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
  }
  private grow(extra: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.len + n > this.buf.length) this.grow(n);
    if (n < 16) {
      const b = this.buf;
      let at = this.len;
      for (let i = start; i < end; i++) b[at++] = src[i]!;
    } else {
      this.buf.set(src.subarray(start, end), this.len);
    }
    this.len += n;
  }
  string(s: string): void {
    const n = s.length;
    if (n === 0) return;
    // At most 3 bytes per UTF-16 unit.
    if (this.len + n * 3 > this.buf.length) this.grow(n * 3);
    const b = this.buf;
    if (n <= 256) {
      // Most inserted strings (attribute values, quotes, brackets) are short ASCII: copied directly,
      // without encodeInto's subarray and result object per call.
      let at = this.len;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at++] = c;
      }
      if (i === n) {
        this.len = at;
        return;
      }
    }
    const { written } = encoder.encodeInto(s, b.subarray(this.len));
    this.len += written;
  }
  /**
   * The bytes written so far, as an exact-size copy (the buffer is reused: a string reserves 3 bytes
   * per UTF-16 unit, so handing out the buffer itself would keep several times the output alive);
   * null when empty.
   */
  take(): Uint8Array | null {
    if (this.len === 0) return null;
    const out = this.buf.slice(0, this.len);
    if (this.buf.length > 1 << 20) this.buf = new Uint8Array(64 * 1024);
    this.len = 0;
    return out;
  }
}

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
/** Content inserted as text (not html): escaped as lol-html does (`&`, `<`, `>`; quotes stay). */
export function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => TEXT_ESCAPES[c]!) : s;
}
