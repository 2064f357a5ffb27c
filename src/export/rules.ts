import { parseRefresh } from '../http/refresh.ts';
import type { HtmlElement, HtmlHandlerRegistry } from '../rewrite/html-engine.ts';
import { rewriteCss } from '../rewrite/css.ts';
import { CSS_CUT, decodeQuoteReferences, wholeText } from '../rewrite/html-rules.ts';
import { rewriteSrcset } from '../rewrite/srcset.ts';
import { selectorsFor, URL_ATTRIBUTES } from '../rewrite/url-attributes.ts';

/**
 * The export's pass over a page the live pipeline has already rewritten (src/proxy/pipeline.ts with
 * src/rewrite/html-rules.ts: same links rules, nav, footer, remove). That pass leaves mirror paths;
 * this one only says where each of them lives in the copy: a relative file, the live mirror
 * (--link-base), or nowhere (dropped; a link becomes text). It walks the same attribute table.
 *
 * Roles: "page" for what a reader navigates to (links, frames, forms, citations), "resource" for what
 * the page loads (images, styles, fonts, media), "absolute" for what must stay absolute (og: meta).
 */
export type Role = 'page' | 'resource' | 'absolute';

/** Leave the value as it is (fragments, other schemes, hosts that are not the site's). */
export const KEEP: unique symbol = Symbol('keep');

/** A replacement URL, KEEP, or null: the target is not in the copy and there is no live mirror to send it to. */
export type Resolve = (raw: string, role: Role) => string | null | typeof KEEP;

export interface ExportRuleOptions {
  resolve: Resolve;
  /** Selectors of elements dropped (site.export.remove). */
  remove: readonly string[];
}

const PAGE_ATTRS = new Set(['iframe src', 'frame src', 'form action', 'button formaction', 'input formaction', 'blockquote cite', 'q cite', 'del cite', 'ins cite']);
/** Lazy-loading attributes of <img>: with no script in the copy, their value becomes the real one. */
const LAZY_TO_REAL: Record<string, string> = { 'data-src': 'src', 'data-original': 'src', 'data-lazy-src': 'src', 'data-srcset': 'srcset', 'data-lazy-srcset': 'srcset' };
const PAGE_RELS = /(^|\s)(canonical|alternate|prev|next|shortlink|search|author|help|license)(\s|$)/;
const HINT_RELS = /(^|\s)(preconnect|dns-prefetch|prerender)(\s|$)/;
/** A CSS url() that loads nothing. */
const NOTHING = 'data:,';

export function registerExportRules(registry: HtmlHandlerRegistry, opts: ExportRuleOptions): void {
  const { resolve } = opts;
  const cssUrl = (u: string) => {
    const r = resolve(u, 'resource');
    return r === KEEP ? null : (r ?? NOTHING);
  };

  for (const selector of opts.remove) registry.on(selector, { element: (el) => void el.remove() });
  registry.on('base', { element: (el) => void el.remove() });

  // The original-link footer keeps pointing at the original: it is the one place the copy names it.
  let inFooter = false;
  registry.on('footer.mirror-footer', {
    element(el) {
      inFooter = true;
      el.onEndTag(() => void (inFooter = false));
    },
  });

  for (const row of URL_ATTRIBUTES) {
    const { attr, kind } = row;
    for (const selector of selectorsFor(row)) {
      const tag = row.tags ? selector.slice(0, selector.indexOf('[')) : null;
      const role: Role = kind === 'link' || (tag && PAGE_ATTRS.has(`${tag} ${attr}`)) ? 'page' : 'resource';
      registry.on(selector, {
        element(el) {
          if (el.removed) return;
          if (kind === 'link') return link(el, attr);
          const value = el.getAttribute(attr)!;
          let next: string | null;
          if (kind === 'srcset') {
            let missing = false;
            next = rewriteSrcset(value, (u) => {
              const r = resolve(u, 'resource');
              if (r === null) missing = true;
              return r === KEEP || r === null ? null : r;
            });
            if (missing) next = null;
            else next ??= value;
          } else if (kind === 'css' || (kind === 'url-or-css' && /^\s*url\(/i.test(decodeQuoteReferences(value)))) {
            next = rewriteCss(decodeQuoteReferences(value), cssUrl);
          } else {
            const r = resolve(value, role);
            if (r === KEEP) return;
            next = r;
          }
          const real = el.tagName === 'img' || el.tagName === 'source' ? LAZY_TO_REAL[attr] : undefined;
          if (next === null) {
            // Nothing to point at: a frame or form without a target is dropped, an attribute otherwise.
            if (tag === 'iframe' || tag === 'frame' || tag === 'form') el.remove();
            else el.removeAttribute(attr);
            return;
          }
          if (real) {
            el.setAttribute(real, next);
            el.removeAttribute(attr);
          } else el.setAttribute(attr, next);
        },
      });
    }
  }

  function link(el: HtmlElement, attr: string): void {
    if (inFooter) return;
    const r = resolve(el.getAttribute(attr)!, 'page');
    if (r === KEEP) return;
    if (r !== null) {
      el.setAttribute(attr, r);
      return;
    }
    // Not a link any more, its text kept (as the site's "neutralize" link rule does).
    el.removeAttribute(attr);
    if (el.tagName === 'a') el.tagName = 'ok';
  }

  registry.on('link[href]', {
    element(el) {
      if (el.removed) return;
      const rel = el.getAttribute('rel')?.toLowerCase() ?? '';
      if (HINT_RELS.test(rel)) return void el.remove();
      // A canonical URL is absolute by nature: the live mirror's, or none.
      const role: Role = /(^|\s)canonical(\s|$)/.test(rel) ? 'absolute' : PAGE_RELS.test(rel) ? 'page' : 'resource';
      const r = resolve(el.getAttribute('href')!, role);
      if (r === KEEP) return;
      if (r === null) el.remove();
      else el.setAttribute('href', r);
    },
  });

  const absoluteMeta = (el: HtmlElement) => {
    const r = resolve(el.getAttribute('content')!, 'absolute');
    if (r === KEEP) return;
    if (r === null) el.remove();
    else el.setAttribute('content', r);
  };
  registry.on('meta[property^="og:"][content]', { element: absoluteMeta });
  registry.on('meta[name^="twitter:"][content]', { element: absoluteMeta });
  registry.on('meta[http-equiv][content]', {
    element(el) {
      if (el.getAttribute('http-equiv')!.trim().toLowerCase() !== 'refresh') return;
      const refresh = parseRefresh(el.getAttribute('content')!);
      if (!refresh) return;
      const r = resolve(refresh.url, 'page');
      if (r === KEEP) return;
      if (r === null) el.remove();
      else el.setAttribute('content', refresh.before + r + refresh.after);
    },
  });
  registry.on('style', { text: wholeText((css) => rewriteCss(css, cssUrl), CSS_CUT) });
}
