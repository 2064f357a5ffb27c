import type { HtmlEngine, HtmlElement } from '../rewrite/html-engine.ts';
import { rewriteCss } from '../rewrite/css.ts';
import { rewriteSrcset } from '../rewrite/srcset.ts';
import { URL_ATTRIBUTES } from '../rewrite/url-attributes.ts';

/**
 * What `edgemirror init` learns from one page: which hosts its resources (images, scripts, styles,
 * media, frames, fonts in inline CSS) come from, and which hosts it links to. Parsed with the same
 * lol-html engine and the same attribute table the mirror rewrites with, so what is found here is
 * what the mirror would map.
 */
export interface HostUse {
  host: string;
  /** URLs seen on this host. */
  count: number;
  /** "https:" / "http:" as written (protocol-relative URLs count as the page's scheme). */
  schemes: Set<string>;
  /** Where they were seen: "img src", "link stylesheet", "style", "script text", … */
  kinds: Set<string>;
}

export interface PageScan {
  resources: Map<string, HostUse>;
  links: Map<string, HostUse>;
  /** Absolute URLs of linked stylesheets (to scan next). */
  stylesheets: string[];
}

/** `rel` values of <link> that load something into the page (others, like alternate or canonical, are links). */
const RESOURCE_RELS = new Set(['stylesheet', 'icon', 'shortcut', 'apple-touch-icon', 'apple-touch-icon-precomposed', 'mask-icon', 'preload', 'modulepreload', 'prefetch', 'manifest', 'image_src']);
/** Attributes of the rewrite table that are navigation, not resources. */
const NOT_RESOURCES = new Set(['action', 'formaction', 'cite']);
const ABSOLUTE_IN_TEXT = /\b(https?):(?:\\?\/){2}([a-z0-9.-]+\.[a-z]{2,}(?::\d+)?)/gi;

export function newScan(): PageScan {
  return { resources: new Map(), links: new Map(), stylesheets: [] };
}

function record(map: Map<string, HostUse>, host: string, scheme: string, kind: string): void {
  const key = host.toLowerCase();
  let use = map.get(key);
  if (!use) map.set(key, (use = { host: key, count: 0, schemes: new Set(), kinds: new Set() }));
  use.count++;
  use.schemes.add(scheme);
  use.kinds.add(kind);
}

/** Resolves `raw` against the page; records its host when it is an http(s) URL. Returns the absolute URL. */
function note(map: Map<string, HostUse>, raw: string, base: string, kind: string): string | null {
  const text = raw.trim();
  if (!text || text.startsWith('#') || /^(data|javascript|mailto|tel|blob|about):/i.test(text)) return null;
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  record(map, url.host, url.protocol, kind);
  return url.href;
}

/** Every URL in a CSS text (url(), @import, image-set()). */
export function scanCss(scan: PageScan, css: string, base: string, kind = 'css'): void {
  rewriteCss(css, (u) => {
    note(scan.resources, u, base, kind);
    return null;
  });
}

/** Absolute URLs spelled out in script text (also `https:\/\/…`), by host. */
function scanScriptText(scan: PageScan, text: string): void {
  for (const m of text.matchAll(ABSOLUTE_IN_TEXT)) record(scan.resources, m[2]!, `${m[1]!.toLowerCase()}:`, 'script text');
}

/** Scans one HTML document (UTF-8 bytes) served from `pageUrl`. */
export async function scanHtml(engine: HtmlEngine, body: Uint8Array, pageUrl: string, scan: PageScan = newScan()): Promise<PageScan> {
  let base = pageUrl;
  let styleText = '';
  let scriptText = '';
  const onElement = (el: HtmlElement) => {
    const tag = el.tagName.toLowerCase();
    if (tag === 'base') {
      const href = el.getAttribute('href');
      if (href) {
        try {
          base = new URL(href, pageUrl).href;
        } catch {
          /* ignore */
        }
      }
      return;
    }
    if (tag === 'link') {
      const href = el.getAttribute('href');
      const rels = (el.getAttribute('rel') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
      if (href && rels.some((r) => RESOURCE_RELS.has(r))) {
        const abs = note(scan.resources, href, base, `link ${rels.join(' ')}`);
        if (abs && rels.includes('stylesheet')) scan.stylesheets.push(abs);
      } else if (href) {
        note(scan.links, href, base, `link ${rels.join(' ')}`);
      }
      const imagesrcset = el.getAttribute('imagesrcset');
      if (imagesrcset) rewriteSrcset(imagesrcset, (u) => (note(scan.resources, u, base, 'link imagesrcset'), null));
      return;
    }
    if (tag === 'meta') {
      const name = (el.getAttribute('property') ?? el.getAttribute('name') ?? '').toLowerCase();
      const content = el.getAttribute('content');
      if (content && /^(og:(image|video|audio)(:url|:secure_url)?|twitter:(image|player)(:src)?)$/.test(name)) note(scan.resources, content, base, `meta ${name}`);
      return;
    }
    for (const row of URL_ATTRIBUTES) {
      if (row.tags && !row.tags.includes(tag)) continue;
      const value = el.getAttribute(row.attr);
      if (value === null || NOT_RESOURCES.has(row.attr)) continue;
      // Script text, srcdoc documents, ping lists and whole-URL data values are not resources to mount.
      if (row.kind === 'script' || row.kind === 'html' || row.kind === 'url-list' || row.kind === 'absolute') continue;
      const kind = `${tag} ${row.attr}`;
      if (row.kind === 'link') note(scan.links, value, base, kind);
      else if (row.kind === 'url') note(scan.resources, value, base, kind);
      else if (row.kind === 'srcset') rewriteSrcset(value, (u) => (note(scan.resources, u, base, kind), null));
      else if (row.kind === 'css') scanCss(scan, value, base, kind);
      else if (/^\s*url\(/i.test(value)) scanCss(scan, `x{background:${value}}`, base, kind);
      else note(scan.resources, value, base, kind);
    }
  };
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
  const out = engine.rewrite(source, (registry) => {
    registry.on('*', { element: onElement });
    registry.on('style', {
      text(t) {
        styleText += t.text;
        if (t.lastInTextNode) {
          scanCss(scan, styleText, base, 'style');
          styleText = '';
        }
      },
    });
    registry.on('script', {
      text(t) {
        scriptText += t.text;
        if (t.lastInTextNode) {
          scanScriptText(scan, scriptText);
          scriptText = '';
        }
      },
    });
  });
  // Drain the (unchanged) output: the handlers run as the engine reads.
  const reader = out.getReader();
  while (!(await reader.read()).done);
  return scan;
}

const SECOND_LEVEL = new Set(['com', 'net', 'org', 'edu', 'gov', 'mil', 'co', 'ac', 'or', 'ne', 'go', 'ltd', 'plc', 'gen', 'idv', 'info', 'biz']);

/**
 * The registrable domain of a host, by a rule of thumb instead of the Public Suffix List: the last two
 * labels, or three under a two-letter country code with a generic second level (www.example.com.tw →
 * example.com.tw). IP addresses and single labels are their own domain.
 */
export function registrableDomain(host: string): string {
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (name.startsWith('[') || /^[\d.]+$/.test(name) || !name.includes('.')) return name;
  const labels = name.split('.');
  if (labels.length >= 3 && labels.at(-1)!.length === 2 && SECOND_LEVEL.has(labels.at(-2)!)) return labels.slice(-3).join('.');
  return labels.slice(-2).join('.');
}
