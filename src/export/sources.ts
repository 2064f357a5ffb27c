import { decodeEntities } from './markdown.ts';

/**
 * The items of an RSS 2.0 or Atom feed, as the export needs them: link, title, date. A linear scan
 * (indexOf, no backtracking), at most `maxItems` items.
 */
export interface FeedItem {
  link: string;
  title: string;
  /** Milliseconds since the epoch, or null when the item has no date that parses. */
  date: number | null;
}

function textOf(xml: string): string {
  const cdata = /^\s*<!\[CDATA\[([\s\S]*?)\]\]>\s*$/.exec(xml);
  return (cdata ? cdata[1]! : decodeEntities(xml)).replace(/\s+/g, ' ').trim();
}

/** The text of the first <name> element of `xml` (name may carry a prefix: dc:date). */
function element(xml: string, name: string): string | null {
  const open = new RegExp(`<${name}(?:\\s[^>]*)?>`, 'i').exec(xml);
  if (!open) return null;
  const start = open.index + open[0].length;
  const end = xml.toLowerCase().indexOf(`</${name.toLowerCase()}>`, start);
  return end < 0 ? null : xml.slice(start, end);
}

function atomLink(entry: string): string | null {
  let fallback: string | null = null;
  for (const m of entry.matchAll(/<link\b([^>]*)\/?>/gi)) {
    const attrs = m[1]!;
    const href = /\bhref\s*=\s*(["'])(.*?)\1/i.exec(attrs)?.[2];
    if (!href) continue;
    const rel = /\brel\s*=\s*(["'])(.*?)\1/i.exec(attrs)?.[2] ?? 'alternate';
    if (rel === 'alternate') return decodeEntities(href);
    fallback ??= decodeEntities(href);
  }
  return fallback;
}

export function parseFeed(xml: string, maxItems: number): { title: string; items: FeedItem[] } {
  const lower = xml.toLowerCase();
  const atom = lower.indexOf('<entry') >= 0 && lower.indexOf('<item') < 0;
  const tag = atom ? 'entry' : 'item';
  const firstItem = lower.indexOf(`<${tag}`);
  const head = firstItem < 0 ? xml : xml.slice(0, firstItem);
  const title = textOf(element(head, 'title') ?? '');
  const items: FeedItem[] = [];
  let from = 0;
  while (items.length < maxItems) {
    let start = lower.indexOf(`<${tag}`, from);
    // "<item>" or "<item …>", not "<itemref>"
    while (start >= 0 && /[\w:-]/.test(lower[start + tag.length + 1] ?? '')) start = lower.indexOf(`<${tag}`, start + 1);
    if (start < 0) break;
    const end = lower.indexOf(`</${tag}>`, start);
    if (end < 0) break;
    const body = xml.slice(start, end);
    from = end + tag.length + 3;
    const link = atom ? atomLink(body) : textOf(element(body, 'link') ?? '') || null;
    if (!link) continue;
    const dateText = element(body, atom ? 'published' : 'pubDate') ?? element(body, atom ? 'updated' : 'dc:date');
    const date = dateText ? Date.parse(textOf(dateText)) : NaN;
    items.push({ link, title: textOf(element(body, 'title') ?? ''), date: Number.isNaN(date) ? null : date });
  }
  return { title, items };
}
