import type { SiteConfig } from '../config/types.ts';
import type { DocContext, SiteMapper } from '../mapping/url-mapper.ts';
import { SHIM_PATH } from '../client/shim-file.ts';
import { shimSiteJson } from '../client/runtime-map.ts';
import { rewriteCss } from './css.ts';
import { registerEmbedRules } from './embeds.ts';
import type { HtmlElement, HtmlHandlerRegistry, HtmlText } from './html-engine.ts';
import { rewriteMarkupFragment } from './markup-fragment.ts';
import { rewriteSrcset, type MapUrl } from './srcset.ts';
import { selectorsFor, URL_ATTRIBUTES, type AttributeKind } from './url-attributes.ts';

/**
 * The HTML rewrite rules: which elements are touched and how. Registered per document on a
 * streaming engine (lol-html), every URL goes through the site's SiteMapper.
 */
export interface HtmlRewriteOptions {
  mapper: SiteMapper;
  site: SiteConfig;
  doc: DocContext;
  /** "page": a document served to a browser (nav, footer, injections). "fragment": HTML inside a feed (absolute URLs, nothing injected). */
  mode: 'page' | 'fragment';
  /** The page was transcoded to UTF-8 on its way in: its charset declarations must say so. */
  transcodedToUtf8: boolean;
  /** Told the host of each absolute resource URL (not a link) left pointing at an unmirrored host. */
  onLeak?: (host: string) => void;
}

const ABSOLUTE_HOST = /^\s*(?:https?:)?\/\/([^/?#\\\s]+)/i;

/** Reports a resource URL that stays absolute on another host: operators mount such asset hosts. */
function reportLeak(value: string, opts: HtmlRewriteOptions): void {
  const host = ABSOLUTE_HOST.exec(value)?.[1];
  if (host) opts.onLeak!(host.toLowerCase());
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function navHtml(site: SiteConfig): string {
  if (site.nav.length === 0) return '';
  const items = site.nav.map((item) => `<a href="${escapeHtml(item.href)}">${escapeHtml(item.label)}</a>`);
  return `<nav class="mirror-nav">${items.join(' | ')}</nav>`;
}

export function footerHtml(site: SiteConfig, originalUrl: string): string {
  if (!site.footer) return '';
  return `<footer class="mirror-footer">${site.footer.replaceAll('{{originalUrl}}', escapeHtml(originalUrl))}</footer>`;
}

/** Rewrites one attribute value of the given kind; null when it stays as it is. `mapUrl` is the document's. */
function rewriteValue(kind: AttributeKind, value: string, mapUrl: MapUrl): string | null {
  switch (kind) {
    case 'link':
    case 'url':
      return mapUrl(value);
    case 'srcset':
      return rewriteSrcset(value, mapUrl);
    case 'url-or-css':
    case 'css': {
      const css = decodeQuoteReferences(value);
      if (kind === 'url-or-css' && !/^\s*url\(/i.test(css)) return mapUrl(value);
      const out = rewriteCss(css, mapUrl);
      return out === css ? null : out;
    }
  }
}

/**
 * Attribute values come from lol-html as written, character references not decoded
 * (cloudflare/lol-html#131). `style="background:url(&quot;…&quot;)"`, as editors and DOM
 * serialisation write it, is a quoted URL to the browser: decode the quote references before the
 * CSS scan (setAttribute escapes `"` again), or the URL is not seen and the image leaks.
 */
const QUOTE_REFERENCE = /&(?:quot;|QUOT;|quot(?![\w=])|apos;|#0*(?:34|39)(?![0-9]);?|#[xX]0*(?:22|27)(?![0-9a-fA-F]);?)/g;
function decodeQuoteReferences(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(QUOTE_REFERENCE, (ref) => (/apos|39|27/.test(ref) ? "'" : '"'));
}

/** Applies links.rules / links.external to an <a> or <area>. */
function rewriteLink(el: HtmlElement, attr: string, opts: HtmlRewriteOptions): void {
  const value = el.getAttribute(attr)!;
  const { action, canonical } = opts.mapper.linkAction(value, opts.doc);
  if (action === 'neutralize') {
    // No longer a link, text kept: <a> becomes <ok …> with its attributes (as the static mirrors did).
    if (el.tagName === 'a') el.tagName = 'ok';
    else el.removeAttribute(attr);
    return;
  }
  if (action === 'keep') {
    // Keep pointing at the original, even when the page spelled it relative to the mirrored origin.
    if (canonical && canonical !== value && !/^(https?:)?\/\//i.test(value.trim())) el.setAttribute(attr, canonical);
    return;
  }
  const next = opts.mapper.toMirror(value, opts.doc, opts.mode === 'fragment');
  if (next !== null) el.setAttribute(attr, next);
}

/**
 * Removes every copy of an attribute: lol-html removes the first one only, and a duplicate the
 * browser ignored (it keeps the first) would then take effect.
 */
function removeAll(el: HtmlElement, name: string): void {
  for (let i = 0; i < 16 && el.hasAttribute(name); i++) el.removeAttribute(name);
}

/** Collects a text node's chunks and replaces the whole node once it is complete. */
function wholeText(transform: (text: string) => string): (chunk: HtmlText) => void {
  let buffer = '';
  return (chunk) => {
    // Text inside two of these elements (only possible in SVG/MathML, e.g. <svg><noscript><style>)
    // is seen by each rule: the first one registered rewrites it, a later one would replace that
    // with its own rewrite of the original text.
    if (chunk.removed && buffer === '') return;
    buffer += chunk.text;
    if (!chunk.lastInTextNode) {
      chunk.remove();
      return;
    }
    const text = buffer;
    buffer = '';
    // Raw-text content (script, style, noscript): written back as markup, i.e. unescaped.
    chunk.replace(transform(text), { html: true });
  };
}

const CHARSET_PARAM = /(charset\s*=\s*)["']?[^\s;"']+["']?/i;
const REFRESH_URL = /^(\s*\d*\.?\d*\s*[;,]?\s*(?:url\s*=\s*)?)(["']?)([^"']*)(["']?)(.*)$/is;

export function registerHtmlRules(registry: HtmlHandlerRegistry, opts: HtmlRewriteOptions): void {
  const { mapper, site, doc } = opts;
  const page = opts.mode === 'page';
  // One mapper per document (fragments in feeds need absolute URLs), not one per element.
  const mapUrl: MapUrl = (u) => mapper.toMirror(u, doc, !page);

  for (const row of URL_ATTRIBUTES) {
    const { attr, kind } = row;
    const handler =
      kind === 'link'
        ? (el: HtmlElement) => rewriteLink(el, attr, opts)
        : (el: HtmlElement) => {
            const value = el.getAttribute(attr)!;
            const next = rewriteValue(kind, value, mapUrl);
            if (next === null) {
              if (opts.onLeak && kind === 'url') reportLeak(value, opts);
              return;
            }
            el.setAttribute(attr, next);
            // A mapped resource is fetched through the mirror: the origin's hash still matches, but
            // rewritten CSS/JS would not, so integrity is dropped whenever the URL changed.
            if (attr === 'src' || attr === 'href') removeAll(el, 'integrity');
          };
    for (const selector of selectorsFor(row)) registry.on(selector, { element: handler });
  }

  registry.on('link[href]', {
    element(el) {
      const rel = el.getAttribute('rel')?.toLowerCase() ?? '';
      if (/(^|\s)canonical(\s|$)/.test(rel)) return; // search engines and readers keep the original
      const href = el.getAttribute('href')!;
      const next = mapUrl(href);
      if (next === null) {
        if (opts.onLeak && /(^|\s)(stylesheet|icon|preload|modulepreload|prefetch|manifest)(\s|$)/.test(rel)) reportLeak(href, opts);
        return;
      }
      el.setAttribute('href', next);
      removeAll(el, 'integrity');
    },
  });

  // Social cards need absolute URLs: og:url, og:image, twitter:image …
  const socialMeta = (el: HtmlElement) => {
    const content = el.getAttribute('content');
    if (!content) return;
    const next = mapper.toMirror(content, doc, true);
    if (next !== null) el.setAttribute('content', next);
  };
  registry.on('meta[property^="og:"][content]', { element: socialMeta });
  registry.on('meta[name^="twitter:"][content]', { element: socialMeta });

  registry.on('meta[http-equiv][content]', {
    element(el) {
      const kind = el.getAttribute('http-equiv')!.trim().toLowerCase();
      const content = el.getAttribute('content')!;
      if (kind === 'refresh') {
        const m = REFRESH_URL.exec(content);
        if (!m || !m[3]) return;
        const next = mapUrl(m[3]);
        if (next !== null) el.setAttribute('content', `${m[1]}${m[2]}${next}${m[4]}${m[5]}`);
      } else if (kind === 'content-type' && opts.transcodedToUtf8) {
        el.setAttribute('content', CHARSET_PARAM.test(content) ? content.replace(CHARSET_PARAM, '$1utf-8') : content);
      }
    },
  });
  if (opts.transcodedToUtf8) {
    registry.on('meta[charset]', { element: (el) => void el.setAttribute('charset', 'utf-8') });
  }

  registry.on('style', { text: wholeText((css) => rewriteCss(css, mapUrl)) });
  registry.on('script', { text: wholeText((js) => mapper.rewriteText(js, doc.mirrorOrigin)) });
  // With scripting on, an HTML <noscript> holds raw text: markup for a reader without JavaScript. In
  // SVG/MathML it is an ordinary element, and its text (CDATA sections included) is just text.
  // (lol-html gives the text inside an SVG <noscript> to this rule even where a break-out tag has left
  // it, e.g. the text of an HTML <noscript> or <textarea> after it: the flag follows the innermost one.)
  let htmlNoscript = true;
  registry.on('noscript', {
    element(el) {
      const outer = htmlNoscript;
      htmlNoscript = !el.namespaceURI || el.namespaceURI === 'http://www.w3.org/1999/xhtml';
      try {
        el.onEndTag(() => void (htmlNoscript = outer));
      } catch {
        htmlNoscript = outer; // `<noscript/>` in SVG/MathML: no content, no end tag
      }
    },
    text: wholeText((html) => {
      if (!htmlNoscript) return html;
      return rewriteMarkupFragment(
        html,
        (row, value) => {
          if (row.kind !== 'link') return rewriteValue(row.kind, value, mapUrl);
          const { action } = mapper.linkAction(value, doc);
          return action === 'mirror' ? mapUrl(value) : null;
        },
        (css) => rewriteCss(css, mapUrl),
      );
    }),
  });

  for (const selector of site.remove) registry.on(selector, { element: (el) => void el.remove() });
  registerEmbedRules(registry, opts);

  if (!page) return;
  registerInjections(registry, opts);
  registerShim(registry, opts);
}

/**
 * The client shim (src/client/shim.ts) as the first child of <head>, before any page script. Where
 * <head> is not written: just before the first <script> or <body>, whichever comes first (the parser
 * puts it into the implied <head>), or at the end of a document that has none of them. Not at the
 * start of <html>: a written <head> after it would then be ignored, with its attributes. The mapping
 * it needs is the site's origins only: the mirror's host comes from the browser, so the cached page
 * names none.
 */
const shimTags = new WeakMap<SiteConfig, string>();
function registerShim(registry: HtmlHandlerRegistry, opts: HtmlRewriteOptions): void {
  if (!opts.site.leaks.shim) return;
  let tag = shimTags.get(opts.site);
  if (!tag) shimTags.set(opts.site, (tag = `<script src="${SHIM_PATH}" data-map="${escapeHtml(shimSiteJson(opts.site))}"></script>`));
  let done = false;
  const first = (el: HtmlElement, before: boolean) => {
    if (done) return;
    done = true;
    if (before) el.before(tag, { html: true });
    else el.prepend(tag, { html: true });
  };
  registry.on('head', { element: (el) => first(el, false) });
  registry.on('script', { element: (el) => first(el, true) });
  registry.on('body', { element: (el) => first(el, true) });
  registry.onDocument({ end: (end) => void (done || end.append(tag!, { html: true })) });
}

/** Nav bar, footer and operator injections: exactly once per document, even when <head>/<body> are missing or repeated. */
function registerInjections(registry: HtmlHandlerRegistry, opts: HtmlRewriteOptions): void {
  const { site, doc } = opts;
  const headHtml = site.inject.head;
  const startHtml = navHtml(site) + site.inject.bodyStart;
  const endHtml = footerHtml(site, doc.url) + site.inject.bodyEnd;
  let headSeen = false;
  let headDone = !headHtml;
  let bodySeen = false;
  let bodyEndDone = !endHtml;

  registry.on('head', {
    element(el) {
      if (headSeen) return;
      headSeen = true;
      if (!headDone) {
        el.onEndTag((end) => {
          if (headDone) return;
          headDone = true;
          end.before(headHtml, { html: true });
        });
      }
    },
  });
  registry.on('body', {
    element(el) {
      if (bodySeen) return;
      bodySeen = true;
      if (!headDone) {
        // <head> never closed explicitly: what belongs in it goes just before <body>.
        headDone = true;
        el.before(headHtml, { html: true });
      }
      if (startHtml) el.prepend(startHtml, { html: true });
      if (!bodyEndDone) {
        el.onEndTag((end) => {
          if (bodyEndDone) return;
          bodyEndDone = true;
          end.before(endHtml, { html: true });
        });
      }
    },
  });
  registry.onDocument({
    end(end) {
      let tail = '';
      if (!headDone) tail += headHtml;
      if (!bodySeen) tail += startHtml;
      if (!bodyEndDone) tail += endHtml;
      if (tail) end.append(tail, { html: true });
    },
  });
}
