import type { SiteConfig } from '../config/types.ts';
import type { DocContext, SiteMapper } from '../mapping/url-mapper.ts';
import type { HtmlEngine } from './html-engine.ts';
import { registerHtmlRules } from './html-rules.ts';
import { stringStream } from './streams.ts';

/**
 * RSS/Atom/RDF feeds. Feed readers resolve nothing against the mirror, so every origin URL becomes an
 * absolute mirror URL: <link>, <guid>, enclosures and media URLs by text rewriting, and the HTML carried
 * in CDATA or escaped text (description, content:encoded, Atom content/summary) by the HTML rules.
 */
export interface FeedRewriteOptions {
  mapper: SiteMapper;
  site: SiteConfig;
  doc: DocContext;
  engine: HtmlEngine;
}

/** Start tags of elements whose text is HTML (attributes bounded: an unclosed tag costs a bounded look-ahead). */
const HTML_ELEMENT_START = /<((?:content:)?encoded|description|content|summary|subtitle)(\s[^>]{0,4096})?>/gi;
/** The XML declaration's encoding: the body leaves the mirror as UTF-8 whatever it was. */
const XML_DECLARATION_ENCODING = /^(\uFEFF?<\?xml\b[^>]{0,200}?\bencoding\s*=\s*)(["'])[^"']*\2/;

async function rewriteHtmlFragment(html: string, opts: FeedRewriteOptions): Promise<string> {
  const out = opts.engine.rewrite(stringStream(html), (registry) =>
    registerHtmlRules(registry, { mapper: opts.mapper, site: opts.site, doc: opts.doc, mode: 'fragment', transcodedToUtf8: false }),
  );
  return new Response(out).text();
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d{1,8})|#x([0-9a-f]{1,8}));/gi, (whole, name: string, dec?: string, hex?: string) => {
    if (dec || hex) {
      // Not a character (past U+10FFFF, a surrogate, NUL): left as written rather than thrown on.
      const n = dec ? Number(dec) : parseInt(hex!, 16);
      return n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? whole : String.fromCodePoint(n);
    }
    return ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name.toLowerCase()] ?? whole;
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function rewriteHtmlContent(inner: string, opts: FeedRewriteOptions): Promise<string> {
  if (inner.includes('<![CDATA[')) {
    // Each CDATA section up to its "]]>"; an unclosed one is text to the end (linear, unlike a lazy regex per opener).
    const parts: Promise<string>[] = [];
    let last = 0;
    for (let open = inner.indexOf('<![CDATA[', last); open >= 0; open = inner.indexOf('<![CDATA[', last)) {
      const close = inner.indexOf(']]>', open + 9);
      if (close < 0) break;
      parts.push(Promise.resolve(opts.mapper.rewriteText(inner.slice(last, open), opts.doc.mirrorOrigin)));
      // "]]>" cannot appear inside CDATA: split it if the rewritten HTML happens to contain it.
      parts.push(rewriteHtmlFragment(inner.slice(open + 9, close), opts).then((html) => `<![CDATA[${html.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`));
      last = close + 3;
    }
    parts.push(Promise.resolve(opts.mapper.rewriteText(inner.slice(last), opts.doc.mirrorOrigin)));
    return (await Promise.all(parts)).join('');
  }
  if (inner.includes('&lt;')) return escapeXml(await rewriteHtmlFragment(unescapeXml(inner), opts));
  return opts.mapper.rewriteText(inner, opts.doc.mirrorOrigin);
}

/**
 * Rewrites a whole feed. Linear in its size: each HTML-carrying element is found by its start tag and
 * the first matching end tag after it; a name with no end tag left is remembered, so a feed full of
 * unclosed <description> tags is not searched to its end once per tag.
 */
export async function rewriteFeed(xml: string, opts: FeedRewriteOptions): Promise<string> {
  const declared = XML_DECLARATION_ENCODING.exec(xml);
  if (declared) xml = `${declared[1]}${declared[2]}utf-8${declared[2]}` + xml.slice(declared[0].length);
  const out: Promise<string>[] = [];
  const unclosed = new Set<string>();
  let last = 0;
  const start = new RegExp(HTML_ELEMENT_START.source, 'gi');
  for (let m = start.exec(xml); m; m = start.exec(xml)) {
    const [openTag, name, attrs = ''] = m;
    const key = name!.toLowerCase();
    if (unclosed.has(key)) continue;
    const end = new RegExp(`</${key}\\s*>`, 'gi');
    end.lastIndex = m.index + openTag.length;
    const close = end.exec(xml);
    if (!close) {
      unclosed.add(key);
      continue;
    }
    const inner = xml.slice(m.index + openTag.length, close.index);
    out.push(Promise.resolve(opts.mapper.rewriteText(xml.slice(last, m.index), opts.doc.mirrorOrigin)));
    const rewrittenOpen = opts.mapper.rewriteText(`<${name}${attrs}>`, opts.doc.mirrorOrigin);
    out.push(rewriteHtmlContent(inner, opts).then((content) => `${rewrittenOpen}${content}</${name}>`));
    last = close.index + close[0].length;
    start.lastIndex = last;
  }
  out.push(Promise.resolve(opts.mapper.rewriteText(xml.slice(last), opts.doc.mirrorOrigin)));
  return (await Promise.all(out)).join('');
}
