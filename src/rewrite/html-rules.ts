import type { SiteConfig } from '../config/types.ts';
import type { DocContext, SiteMapper } from '../mapping/url-mapper.ts';
import { escapeHtml } from '../http/escape.ts';
import { rewriteRefresh } from '../http/refresh.ts';
import { SHIM_PATH } from '../client/shim-file.ts';
import { shimSiteJson } from '../client/runtime-map.ts';
import { rewriteCss } from './css.ts';
import { registerEmbedRules } from './embeds.ts';
import type { HtmlElement, HtmlHandlerRegistry, HtmlText } from './html-engine.ts';
import { rewriteMarkupFragment } from './markup-fragment.ts';
import { rewriteSrcset, type MapUrl } from './srcset.ts';
import { META_URL_SELECTORS, selectorsFor, URL_ATTRIBUTES, type AttributeKind } from './url-attributes.ts';
import { boundaryRewriter, isTokenChar, type TextRewriter } from './streams.ts';

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


/**
 * The built-in look of the nav bar and footer (site.style "default"). Inline styles, each starting with
 * `all:revert`: the page's CSS can neither leak in (an inline declaration beats every page rule that is
 * not !important) nor be touched (nothing is added to the page's stylesheets). Dark mode without a
 * stylesheet: `color-scheme: light dark` makes the system colours (Canvas, CanvasText, LinkText) follow
 * the reader's setting (color-mix tints the bar where supported; older browsers keep plain Canvas).
 * Links are at least 44 × 44 px, the smallest comfortable tap target on a phone.
 */
export const NAV_STYLE = 'all:revert;display:flex;flex-wrap:wrap;align-items:center;margin:0;padding:0 8px;color-scheme:light dark;background:Canvas;background:color-mix(in srgb,Canvas 93%,CanvasText);color:GrayText;border-bottom:1px solid GrayText;font:16px/1.4 system-ui,sans-serif';
export const NAV_LINK_STYLE = 'all:revert;display:inline-flex;align-items:center;justify-content:center;min-height:44px;min-width:44px;padding:0 10px;color:LinkText;text-decoration:none';
export const FOOTER_STYLE = 'all:revert;display:block;margin:0;padding:6px 12px;color-scheme:light dark;background:Canvas;background:color-mix(in srgb,Canvas 93%,CanvasText);color:CanvasText;border-top:1px solid GrayText;font:15px/1.6 system-ui,sans-serif;overflow-wrap:anywhere';
export const FOOTER_LINK_STYLE = 'all:revert;display:inline-block;min-height:44px;padding:10px 0;color:LinkText;word-break:break-all';

export function navHtml(site: SiteConfig): string {
  if (site.nav.length === 0) return '';
  const styled = site.style !== 'none';
  const link = styled ? ` style="${NAV_LINK_STYLE}"` : '';
  const items = site.nav.map((item) => `<a href="${escapeHtml(item.href)}"${link}>${escapeHtml(item.label)}</a>`);
  return `<nav class="mirror-nav"${styled ? ` style="${NAV_STYLE}"` : ''}>${items.join(' | ')}</nav>`;
}

/**
 * The footer template with {{originalUrl}} filled in: exact inside a tag (an href), readable in text
 * (see readableUrl). With the built-in style, the template's links get the footer link style too.
 */
export function footerHtml(site: SiteConfig, originalUrl: string): string {
  if (!site.footer) return '';
  const styled = site.style !== 'none';
  const exact = escapeHtml(originalUrl);
  const readable = escapeHtml(readableUrl(originalUrl));
  const parts = site.footer.split('{{originalUrl}}');
  let html = parts[0]!;
  for (let i = 1; i < parts.length; i++) {
    const insideTag = html.lastIndexOf('<') > html.lastIndexOf('>');
    html += (insideTag ? exact : readable) + parts[i];
  }
  if (styled) html = html.replace(/<a(\s[^>]*)?>/gi, (tag, attrs = '') => (/\sstyle\s*=/i.test(attrs) ? tag : `<a${attrs} style="${FOOTER_LINK_STYLE}">`));
  return `<footer class="mirror-footer"${styled ? ` style="${FOOTER_STYLE}"` : ''}>${html}</footer>`;
}

/** Percent-escapes of non-ASCII bytes (UTF-8 sequences), e.g. %E5%9B%BE. */
const NON_ASCII_ESCAPES = /(?:%[89a-f][0-9a-f])+/gi;
/** Characters that must stay escaped in text a reader sees: invisible, spacing or direction-changing. */
const UNSAFE_SHOWN = /[\s\u0000-\u001f\u007f-\u00a0\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\uffff]/u;

/**
 * A URL as a reader should read it: `…/search.htm?q=%E5%9B%BE%E7%89%87` → `…/search.htm?q=图片`, as
 * browsers show it in the address bar. Only escapes of whole UTF-8 characters are decoded (ASCII such
 * as %20, %2F stays as it is), and never into invisible or direction-changing characters.
 */
export function readableUrl(url: string): string {
  return url.replace(NON_ASCII_ESCAPES, (run) => {
    let text: string;
    try {
      text = decodeURIComponent(run);
    } catch {
      return run; // not UTF-8
    }
    return UNSAFE_SHOWN.test(text) ? run : text;
  });
}

/** How one document's attribute values are rewritten (built once per document). */
export interface ValueRewriters {
  /** An attribute value as written (character references not decoded). */
  mapUrl: MapUrl;
  /** CSS in an attribute value (`style`). */
  mapStyleUrl: MapUrl;
  /** CSS source (<style> text). */
  mapCssUrl: MapUrl;
  /** Script text (inline event handlers). */
  rewriteScript: (js: string) => string;
  /** A whole absolute origin URL → an absolute mirror URL (data-url, <option value>). */
  mapAbsolute: MapUrl;
  /** A document in an attribute (<iframe srcdoc>), character references not decoded. */
  rewriteDocument: (html: string) => string;
}

/** Rewrites one attribute value of the given kind; null when it stays as it is. */
export function rewriteValue(kind: AttributeKind, value: string, r: ValueRewriters): string | null {
  switch (kind) {
    case 'link':
    case 'url':
      return r.mapUrl(value);
    case 'srcset':
      return rewriteSrcset(value, r.mapUrl);
    case 'url-list': {
      const out = value.replace(/[^\t\n\f\r ]+/g, (u) => r.mapUrl(u) ?? u);
      return out === value ? null : out;
    }
    case 'absolute':
      return r.mapAbsolute(value);
    case 'script': {
      const out = r.rewriteScript(value);
      return out === value ? null : out;
    }
    case 'html': {
      const out = r.rewriteDocument(value);
      return out === value ? null : out;
    }
    case 'url-or-css':
    case 'css': {
      const css = decodeQuoteReferences(value);
      if (kind === 'url-or-css' && !/^\s*url\(/i.test(css)) return r.mapUrl(value);
      const out = rewriteCss(css, r.mapStyleUrl);
      return out === css ? null : out;
    }
  }
}

/** Character references a document in an attribute value needs decoded to be read as markup. */
const MARKUP_REFERENCE = /&(?:(quot|amp|lt|gt|apos);|#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}));?)/g;
const MARKUP_NAMED: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
function decodeMarkupReferences(value: string): string {
  return value.replace(MARKUP_REFERENCE, (_m, name?: string, hex?: string, dec?: string) => {
    if (name) return MARKUP_NAMED[name]!;
    const n = hex ? parseInt(hex, 16) : Number(dec);
    return n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? '\ufffd' : String.fromCodePoint(n);
  });
}

/**
 * The value rewriters of one document. `srcdoc` documents are rewritten as <noscript> markup is
 * (attributes and <style>; their scripts' text is not), one level deep.
 */
export function valueRewriters(mapper: SiteMapper, doc: DocContext, absolute: boolean, depth = 0): ValueRewriters {
  const r: ValueRewriters = {
    mapUrl: (u) => mapper.toMirror(u, doc, absolute, 'html'),
    mapStyleUrl: (u) => mapper.toMirror(u, doc, absolute, 'html-css'),
    mapCssUrl: (u) => mapper.toMirror(u, doc, absolute, 'css'),
    rewriteScript: (js) => mapper.rewriteText(js, doc.mirrorOrigin),
    mapAbsolute: (u) => (mapper.matchAbsolute(u.trim(), 'html') ? mapper.toMirror(u, doc, true, 'html') : null),
    rewriteDocument: (html) => {
      if (depth > 0 || !html.includes('<')) return html;
      const inner = valueRewriters(mapper, doc, absolute, depth + 1);
      const decoded = decodeMarkupReferences(html);
      const out = rewriteFragment(decoded, mapper, doc, inner);
      // Written back as an attribute value: "&" escaped again (the engines escape quotes).
      return out === decoded ? html : out.replaceAll('&', '&amp;');
    },
  };
  return r;
}

/** Rewrites the URL attributes and <style> text of markup held as text (<noscript>, srcdoc). */
function rewriteFragment(html: string, mapper: SiteMapper, doc: DocContext, r: ValueRewriters): string {
  return rewriteMarkupFragment(
    html,
    (row, value) => {
      if (row.kind !== 'link') return rewriteValue(row.kind, value, r);
      const { action } = mapper.linkAction(value, doc, 'html');
      return action === 'mirror' ? r.mapUrl(value) : null;
    },
    (css) => rewriteCss(css, r.mapCssUrl),
  );
}

/**
 * Attribute values come from lol-html as written, character references not decoded
 * (cloudflare/lol-html#131). `style="background:url(&quot;…&quot;)"`, as editors and DOM
 * serialisation write it, is a quoted URL to the browser: decode the quote references before the
 * CSS scan (setAttribute escapes `"` again), or the URL is not seen and the image leaks.
 */
export const QUOTE_REFERENCE = /&(?:quot;|QUOT;|quot(?![\w=])|apos;|#0*(?:34|39)(?![0-9]);?|#[xX]0*(?:22|27)(?![0-9a-fA-F]);?)/g;
export function decodeQuoteReferences(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(QUOTE_REFERENCE, (ref) => (/apos|39|27/.test(ref) ? "'" : '"'));
}

/** Applies links.rules / links.external to an <a> or <area>. */
function rewriteLink(el: HtmlElement, attr: string, opts: HtmlRewriteOptions): void {
  const value = el.getAttribute(attr)!;
  const { action, canonical } = opts.mapper.linkAction(value, opts.doc, 'html');
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
  const next = opts.mapper.toMirror(value, opts.doc, opts.mode === 'fragment', 'html');
  if (next !== null) el.setAttribute(attr, next);
}

/**
 * Removes every copy of an attribute: lol-html removes the first one only, and a duplicate the
 * browser ignored (it keeps the first) would then take effect.
 */
function removeAll(el: HtmlElement, name: string): void {
  for (let i = 0; i < 16 && el.hasAttribute(name); i++) el.removeAttribute(name);
}

/**
 * Raw text (script, style, noscript) is rewritten as one string up to this many characters; a longer
 * text node (an endless <script> from a broken or hostile origin) is rewritten in windows from then on,
 * so memory per response stays bounded and nothing is dropped.
 */
export const WHOLE_TEXT_MAX = 256 * 1024;

/**
 * Collects a text node's chunks and replaces the whole node once it is complete; past WHOLE_TEXT_MAX,
 * rewrites it in windows that end just after a character `boundary` accepts (one no match spans).
 */
export function wholeText(transform: (text: string) => string, boundary: (c: number) => boolean): (chunk: HtmlText) => void {
  let buffer = '';
  let windows: TextRewriter | null = null;
  return (chunk) => {
    // Text inside two of these elements (only possible in SVG/MathML, e.g. <svg><noscript><style>)
    // is seen by each rule: the first one registered rewrites it, a later one would replace that
    // with its own rewrite of the original text.
    if (chunk.removed && buffer === '' && !windows) return;
    if (windows) {
      let out = windows.push(chunk.text);
      if (chunk.lastInTextNode) {
        out += windows.flush();
        windows = null;
      }
      chunk.replace(out, { html: true });
      return;
    }
    buffer += chunk.text;
    if (!chunk.lastInTextNode) {
      if (buffer.length > WHOLE_TEXT_MAX) {
        windows = boundaryRewriter(transform, boundary);
        chunk.replace(windows.push(buffer), { html: true });
        buffer = '';
      } else chunk.remove();
      return;
    }
    const text = buffer;
    buffer = '';
    // Raw-text content (script, style, noscript): written back as markup, i.e. unescaped.
    chunk.replace(transform(text), { html: true });
  };
}

/** Where script text may be cut: after any character that cannot be part of a URL (see tokenBoundedRewriter). */
const SCRIPT_CUT = (c: number) => !isTokenChar(c);
/** CSS: after a declaration or block (`;`, `{`, `}`) or a line. */
export const CSS_CUT = (c: number) => c === 59 || c === 123 || c === 125 || c === 10;
/** Markup (noscript): after a tag. */
const MARKUP_CUT = (c: number) => c === 62;

const CHARSET_PARAM = /(charset\s*=\s*)["']?[^\s;"']+["']?/i;

export function registerHtmlRules(registry: HtmlHandlerRegistry, opts: HtmlRewriteOptions): void {
  const { mapper, site, doc } = opts;
  const page = opts.mode === 'page';
  // One set of rewriters per document (fragments in feeds need absolute URLs), not one per element.
  const rewriters = valueRewriters(mapper, doc, !page);
  const { mapUrl, mapCssUrl } = rewriters;

  const rewriteAttr = (el: HtmlElement, attr: string, kind: AttributeKind) => {
    const value = el.getAttribute(attr);
    if (value === null) return; // rows matched by element only (see selectorsFor), or grouped rows
    const next = rewriteValue(kind, value, rewriters);
    if (next === null) {
      if (opts.onLeak && kind === 'url') reportLeak(value, opts);
      return;
    }
    el.setAttribute(attr, next);
    // A mapped resource is fetched through the mirror: the origin's hash still matches, but
    // rewritten CSS/JS would not, so integrity is dropped whenever the URL changed.
    if (attr === 'src' || attr === 'href') removeAll(el, 'integrity');
  };
  // Rows for any element with one of many attribute names (event handlers, data-url …) are one
  // selector list and one handler per kind: each selector costs matching time on every element.
  const grouped = new Map<AttributeKind, string[]>();
  for (const row of URL_ATTRIBUTES) {
    const { attr, kind } = row;
    if (row.tags === null && (kind === 'script' || kind === 'absolute')) {
      grouped.set(kind, [...(grouped.get(kind) ?? []), attr]);
      continue;
    }
    const handler = kind === 'link' ? (el: HtmlElement) => rewriteLink(el, attr, opts) : (el: HtmlElement) => rewriteAttr(el, attr, kind);
    for (const selector of selectorsFor(row)) registry.on(selector, { element: handler });
  }
  for (const [kind, attrs] of grouped) {
    registry.on(attrs.map((a) => `[${a}]`).join(', '), {
      element(el) {
        for (const attr of attrs) rewriteAttr(el, attr, kind);
      },
    });
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

  // Social cards and previews need absolute URLs: og:url, og:image, twitter:image, thumbnail …
  const socialMeta = (el: HtmlElement) => {
    const content = el.getAttribute('content');
    if (!content) return;
    const next = mapper.toMirror(content, doc, true, 'html');
    if (next !== null) el.setAttribute('content', next);
  };
  for (const selector of META_URL_SELECTORS) registry.on(selector, { element: socialMeta });

  registry.on('meta[http-equiv][content]', {
    element(el) {
      const kind = el.getAttribute('http-equiv')!.trim().toLowerCase();
      const content = el.getAttribute('content')!;
      if (kind === 'refresh') {
        const next = rewriteRefresh(content, mapUrl);
        if (next !== null) el.setAttribute('content', next);
      } else if (kind === 'content-type' && opts.transcodedToUtf8) {
        el.setAttribute('content', CHARSET_PARAM.test(content) ? content.replace(CHARSET_PARAM, '$1utf-8') : content);
      }
    },
  });
  if (opts.transcodedToUtf8) {
    registry.on('meta[charset]', { element: (el) => void el.setAttribute('charset', 'utf-8') });
  }

  registry.on('style', { text: wholeText((css) => rewriteCss(css, mapCssUrl), CSS_CUT) });
  registry.on('script', { text: wholeText((js) => mapper.rewriteText(js, doc.mirrorOrigin), SCRIPT_CUT) });
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
    text: wholeText((html) => (htmlNoscript ? rewriteFragment(html, mapper, doc, rewriters) : html), MARKUP_CUT),
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
