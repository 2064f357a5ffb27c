/**
 * The Refresh value, in the header and in `<meta http-equiv=refresh content>`: "5; url='…'", "0;URL=…",
 * "5, …" or a bare URL. The URL may be quoted; quotes and whatever follows the closing one are kept.
 */
const REFRESH = /^(\s*\d*\.?\d*\s*[;,]?\s*(?:url\s*=\s*)?["']?)([^"']*)(["']?.*)$/is;

/** The value split around its URL (`before + url + after` is the value); null when it names no URL. */
export function parseRefresh(value: string): { before: string; url: string; after: string } | null {
  const m = REFRESH.exec(value);
  return m && m[2] ? { before: m[1]!, url: m[2], after: m[3]! } : null;
}

/** The value with its URL replaced by `map(url)`; null when it names no URL or `map` gives null. */
export function rewriteRefresh(value: string, map: (url: string) => string | null): string | null {
  const parts = parseRefresh(value);
  const next = parts && map(parts.url);
  return next == null ? null : parts!.before + next + parts!.after;
}
