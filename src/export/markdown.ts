import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { stringStream } from '../rewrite/streams.ts';
import { readText } from './io.ts';

/**
 * A Markdown page from an exported HTML page (links already resolved for the Markdown files): the
 * title as a heading, the nav bar as a line of Markdown links, the article body (the first
 * `contentSelector` that matches) as one HTML block a code host's Markdown renderer keeps, then the
 * original-link footer. The body is cut out by the HTML engine (markers around the element), with
 * what such renderers strip anyway (scripts, frames, forms, style and class attributes) removed first.
 */

/** Elements a code host's Markdown sanitizer drops, content and all, or that make no sense in a copy. */
const DROPPED = ['script', 'style', 'noscript', 'iframe', 'frame', 'form', 'input', 'button', 'select', 'textarea', 'link', 'meta', 'object', 'embed', 'template', 'nav.mirror-nav', 'footer.mirror-footer'];
/** Attributes such sanitizers strip, or that only served scripts and styles. */
const STRIPPED = ['style', 'class', 'id', 'sizes', 'loading', 'decoding', 'data-lazy-type', 'data-src', 'data-srcset', 'data-bg', 'data-original', 'data-lazy-src', 'onclick', 'onload', 'onerror', 'tabindex', 'role', 'target'];
const MAX_TITLE = 1000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Text safe inside a Markdown heading or link label. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/([\\`*_{}[\]<>()#+!|~])/g, '\\$1');
}

/** The page's <title> text and the HTML of its body element (see the module comment). */
export async function extractContent(engine: HtmlEngine, html: string, selectors: readonly string[]): Promise<{ title: string; body: string }> {
  const all = [...selectors, 'body'];
  const seen = new Set<number>();
  let title = '';
  const marked = await readText(
    engine.rewrite(stringStream(html), (registry) => {
      registry.on('title', {
        text(chunk) {
          if (title.length < MAX_TITLE) title += chunk.text;
        },
      });
      for (const selector of DROPPED) registry.on(selector, { element: (el) => void el.remove() });
      all.forEach((selector, i) => {
        registry.on(selector, {
          element(el) {
            if (seen.has(i) || el.removed) return;
            seen.add(i);
            el.before(`<!--edgemirror-content-${i}-->`, { html: true });
            try {
              el.onEndTag((end) => void end.after(`<!--/edgemirror-content-${i}-->`, { html: true }));
            } catch {
              // a void element: nothing inside it
            }
          },
        });
      });
      registry.on('*', {
        element(el) {
          for (const name of STRIPPED) if (el.hasAttribute(name)) el.removeAttribute(name);
          if (el.tagName === 'ok') el.tagName = 'span';
        },
      });
    }),
  );
  for (let i = 0; i < all.length; i++) {
    const open = `<!--edgemirror-content-${i}-->`;
    const start = marked.indexOf(open);
    const end = marked.indexOf(`<!--/edgemirror-content-${i}-->`, start);
    if (start < 0 || end < 0) continue;
    let body = marked.slice(start + open.length, end);
    // Markers of other selectors nested inside.
    body = body.replace(/<!--\/?edgemirror-content-\d+-->/g, '');
    if (all[i] === 'body') body = body.replace(/^\s*<body\b[^>]*>/i, '').replace(/<\/body>\s*$/i, '');
    return { title: decodeEntities(title).replace(/\s+/g, ' ').trim(), body };
  }
  return { title: decodeEntities(title).replace(/\s+/g, ' ').trim(), body: '' };
}

/**
 * One HTML block: no blank line (it would end the block and let the rest be read as Markdown) and no
 * leading indentation (four spaces would make a code block once the block has ended).
 */
export function htmlBlock(html: string): string {
  const lines = html
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return ['<div>', ...lines, '</div>'].join('\n');
}

export interface MarkdownPage {
  title: string;
  /** `[label](href)` items, already resolved. */
  nav: string[];
  body: string;
  /** The footer as HTML (one line), or "". */
  footer: string;
}

export function renderMarkdown(page: MarkdownPage): string {
  const parts = [`# ${escapeMarkdown(page.title)}`, ''];
  if (page.nav.length) parts.push(page.nav.join(' | '), '');
  parts.push(page.body, '');
  if (page.footer) parts.push('---', '', page.footer.replace(/\s*\n\s*/g, ' '), '');
  return parts.join('\n');
}
