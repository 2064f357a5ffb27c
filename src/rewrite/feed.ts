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

/** Elements whose text is HTML. */
const HTML_ELEMENT = /<((?:content:)?encoded|description|content|summary|subtitle)(\s[^>]*)?>([\s\S]*?)<\/\1\s*>/gi;
const CDATA = /<!\[CDATA\[([\s\S]*?)\]\]>/g;

async function rewriteHtmlFragment(html: string, opts: FeedRewriteOptions): Promise<string> {
  const out = opts.engine.rewrite(stringStream(html), (registry) =>
    registerHtmlRules(registry, { mapper: opts.mapper, site: opts.site, doc: opts.doc, mode: 'fragment', transcodedToUtf8: false }),
  );
  return new Response(out).text();
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-f]+));/gi, (whole, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[name.toLowerCase()] ?? whole;
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

async function rewriteHtmlContent(inner: string, opts: FeedRewriteOptions): Promise<string> {
  if (inner.includes('<![CDATA[')) {
    const parts: Promise<string>[] = [];
    let last = 0;
    for (const m of inner.matchAll(CDATA)) {
      parts.push(Promise.resolve(opts.mapper.rewriteText(inner.slice(last, m.index), opts.doc.mirrorOrigin)));
      // "]]>" cannot appear inside CDATA: split it if the rewritten HTML happens to contain it.
      parts.push(rewriteHtmlFragment(m[1]!, opts).then((html) => `<![CDATA[${html.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`));
      last = m.index! + m[0].length;
    }
    parts.push(Promise.resolve(opts.mapper.rewriteText(inner.slice(last), opts.doc.mirrorOrigin)));
    return (await Promise.all(parts)).join('');
  }
  if (inner.includes('&lt;')) return escapeXml(await rewriteHtmlFragment(unescapeXml(inner), opts));
  return opts.mapper.rewriteText(inner, opts.doc.mirrorOrigin);
}

export async function rewriteFeed(xml: string, opts: FeedRewriteOptions): Promise<string> {
  const out: Promise<string>[] = [];
  let last = 0;
  for (const m of xml.matchAll(HTML_ELEMENT)) {
    const [whole, name, attrs = '', inner] = m;
    const start = m.index!;
    out.push(Promise.resolve(opts.mapper.rewriteText(xml.slice(last, start), opts.doc.mirrorOrigin)));
    const openTag = opts.mapper.rewriteText(`<${name}${attrs}>`, opts.doc.mirrorOrigin);
    out.push(rewriteHtmlContent(inner!, opts).then((content) => `${openTag}${content}</${name}>`));
    last = start + whole.length;
  }
  out.push(Promise.resolve(opts.mapper.rewriteText(xml.slice(last), opts.doc.mirrorOrigin)));
  return (await Promise.all(out)).join('');
}
