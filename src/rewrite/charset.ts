/**
 * Finding a document's charset and turning it into UTF-8. The WASM lol-html build is UTF-8 only, and
 * TextEncoder writes only UTF-8, so every non-UTF-8 text body is transcoded and re-declared as UTF-8
 * (on both runtimes, so readers see the same thing everywhere).
 */

const canonicalCache = new Map<string, string | null>();

/** The WHATWG encoding name for a label ("gb2312" → "gbk"), or null when the label is unknown. */
export function canonicalCharset(label: string): string | null {
  const key = label.trim().toLowerCase();
  let name = canonicalCache.get(key);
  if (name === undefined) {
    try {
      name = new TextDecoder(key).encoding;
    } catch {
      name = null;
    }
    if (canonicalCache.size < 256) canonicalCache.set(key, name);
  }
  return name;
}

export function charsetFromContentType(contentType: string | null): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*"?([^\s;"]+)/i.exec(contentType);
  return m ? canonicalCharset(m[1]!) : null;
}

/** BOM, then `<meta charset>` / `<meta http-equiv=Content-Type content="…charset=…">` in the first bytes (HTML's prescan, simplified). */
export function sniffHtmlCharset(prefix: Uint8Array): string | null {
  if (prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf) return 'utf-8';
  if (prefix[0] === 0xfe && prefix[1] === 0xff) return 'utf-16be';
  if (prefix[0] === 0xff && prefix[1] === 0xfe) return 'utf-16le';
  const head = latin1(prefix, 2048);
  const m = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_:.+-]+)/i.exec(head);
  if (!m) return null;
  const name = canonicalCharset(m[1]!);
  // A page cannot truthfully declare UTF-16 in an ASCII-compatible meta: the HTML spec reads that as UTF-8.
  return name && name.startsWith('utf-16') ? 'utf-8' : name;
}

/** True once the prefix holds a charset declaration or the start of <body> (no meta can follow that matters). */
export function prescanComplete(prefix: Uint8Array): boolean {
  const head = latin1(prefix, 2048);
  return /<meta\b[^>]*charset[^>]*>/i.test(head) || /<body[\s>]/i.test(head);
}

function latin1(bytes: Uint8Array, max: number): string {
  let s = '';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i += 1024) s += String.fromCharCode(...bytes.subarray(i, Math.min(n, i + 1024)));
  return s;
}
