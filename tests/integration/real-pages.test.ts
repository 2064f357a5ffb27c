/**
 * Real-page conformance: the 17 real Chinese pages of ../shared/fixtures/real-pages/ (saved by third
 * parties, 2005–2023), each served by a local origin under its original URL with the manifest's
 * Content-Type, mirrored with a config of the origins the manifest lists, and read back with parse5
 * (what a browser builds). Both engines on Node; the Worker (native HTMLRewriter) under
 * `npm run test:worker`. The fixtures are read from ../shared, not copied into the repository.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, elementChildren, isElement, parseHtml, walk, type Element, type Node } from '../helpers/html.ts';
import { rawRequest, startProxy, TARGET, type MirrorProxy } from '../helpers/mirror.ts';
import type { PageOrigin } from '../helpers/page-origin.ts';
import {
  manifest, mirrorHost, mirrorPathOf, originHosts, pageBytes, realPageSites, startRealPagesOrigin, undeclaredBytes, UNDECLARED_PREFIX, type ManifestPage,
} from '../helpers/real-pages.ts';

// ── what a browser loads or navigates to ──

const CSS_URL = /url\(\s*(["']?)([^"')]*)\1\s*\)|@import\s+(["'])([^"']*)\3/gi;

function cssUrls(css: string): string[] {
  return [...css.matchAll(CSS_URL)].map((m) => m[2] ?? m[4] ?? '').filter(Boolean);
}

function srcsetUrls(value: string): string[] {
  return value
    .split(/,(?=\s|$)|,(?=[^\s,])/)
    .map((c) => c.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/** URLs in positions a browser loads or navigates (footer and rel=canonical aside), with where. */
function loadedUrls(doc: Node): { where: string; url: string }[] {
  const out: { where: string; url: string }[] = [];
  for (const el of walk(doc)) {
    if (el.tagName === 'footer' && el.attrs.some((a) => a.name === 'class' && a.value.includes('mirror-footer'))) continue;
    const get = (n: string) => el.attrs.find((a) => a.name === n && !a.prefix)?.value;
    const rel = (get('rel') ?? '').toLowerCase();
    for (const a of el.attrs) {
      const where = `<${el.tagName} ${a.prefix ? a.prefix + ':' : ''}${a.name}>`;
      const name = a.name;
      if (name === 'href') {
        if (el.tagName === 'link' && /(^|\s)canonical(\s|$)/.test(rel)) continue;
        if (inFooter(el)) continue;
        out.push({ where, url: a.value });
      } else if (['src', 'poster', 'action', 'formaction', 'background', 'longdesc'].includes(name) || (name === 'data' && el.tagName === 'object')) {
        out.push({ where, url: a.value });
      } else if (name === 'srcset' || name === 'imagesrcset') {
        for (const u of srcsetUrls(a.value)) out.push({ where, url: u });
      } else if (name === 'ping') {
        for (const u of a.value.split(/\s+/).filter(Boolean)) out.push({ where, url: u });
      } else if (name === 'style') {
        for (const u of cssUrls(a.value)) out.push({ where, url: u });
      } else if (name === 'content' && el.tagName === 'meta' && (get('http-equiv') ?? '').toLowerCase() === 'refresh') {
        const m = /url\s*=\s*["']?([^"']*)/i.exec(a.value);
        if (m) out.push({ where, url: m[1]! });
      }
    }
    if (el.tagName === 'style') for (const u of cssUrls(textOfNode(el))) out.push({ where: '<style>', url: u });
  }
  return out;
}

function inFooter(el: Element): boolean {
  for (let p: any = el; p; p = p.parentNode) if (p.tagName === 'footer' && p.attrs.some((a: any) => a.name === 'class' && a.value.includes('mirror-footer'))) return true;
  return false;
}

function textOfNode(node: Node): string {
  if (node.nodeName === '#text') return (node as any).value;
  const children = 'childNodes' in node ? node.childNodes : [];
  return children.map((c) => textOfNode(c as Node)).join('');
}

/** The URL's host as the browser resolves it on the mirror page, if it is an origin host. */
function originHostOf(url: string, pageUrl: string, hosts: Set<string>): string | null {
  try {
    const u = new URL(url, pageUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    const host = u.hostname.replace(/\.$/, '');
    return hosts.has(host) ? host : null;
  } catch {
    return null;
  }
}

// ── what the reader sees ──

const NOT_TEXT = new Set(['script', 'style', 'noscript', 'template']);

/** Text of the body as the browser builds it, without injected elements and raw-text content, whitespace collapsed. */
function visibleText(node: Node): string {
  const parts: string[] = [];
  const visit = (n: Node) => {
    if (n.nodeName === '#text') parts.push((n as any).value);
    if (!isElement(n)) return void ('childNodes' in n && n.childNodes.forEach((c) => visit(c as Node)));
    if (NOT_TEXT.has(n.tagName) || isInjected(n)) return;
    n.childNodes.forEach((c) => visit(c as Node));
  };
  visit(node);
  return parts.join('').replace(/\s+/g, ' ').trim();
}

function isInjected(el: Element): boolean {
  return (el.tagName === 'nav' || el.tagName === 'footer') && el.attrs.some((a) => a.name === 'class' && /\bmirror-(nav|footer)\b/.test(a.value));
}

/** Elements per tag name, without the injected nav/footer and their content. */
function elementCounts(doc: Node): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (n: Node) => {
    if (isElement(n)) {
      if (isInjected(n)) return;
      counts[n.tagName] = (counts[n.tagName] ?? 0) + 1;
      if (n.tagName === 'template') visit((n as any).content);
    }
    if ('childNodes' in n) n.childNodes.forEach((c) => visit(c as Node));
  };
  visit(doc);
  return counts;
}

function count(text: string, ch: string): number {
  return text.split(ch).length - 1;
}

/**
 * Pages where the nav/footer placement fails today for reasons the HTML engines fix (no <body> start
 * tag, elements left open, a body cut inside a tag): that work is done elsewhere; these assertions are
 * expected to fail until it lands. Measured per engine on Node.
 */
const PLACEMENT_KNOWN_FAILURES: Record<string, readonly string[]> = {
  fast: [],
  'lol-html': ['zaobao/zaobao-2023.html'],
  worker: [],
};


const ENGINES = TARGET === 'worker' ? (['worker'] as const) : (['fast', 'lol-html'] as const);

describe.skipIf(!manifest).each(ENGINES)('real pages, exactly (%s)', (engine) => {
  const m = manifest!;
  let origin: PageOrigin;
  let proxy: MirrorProxy;
  beforeAll(async () => {
    origin = await startRealPagesOrigin(m);
    proxy = await startProxy({
      server: engine === 'worker' ? {} : { htmlEngine: engine },
      sites: realPageSites(m, origin.url),
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await origin?.close();
  });

  async function mirrored(page: ManifestPage) {
    const res = await rawRequest(proxy.url, mirrorPathOf(page), { headers: { host: mirrorHost(page.site) } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/charset=utf-8/i);
    const html = new TextDecoder('utf-8').decode(res.body);
    const original = new TextDecoder(page.charset).decode(pageBytes(page));
    return { html, original, doc: parseHtml(html), originalDoc: parseHtml(original), pageUrl: `http://${mirrorHost(page.site)}${mirrorPathOf(page)}` };
  }

  for (const page of m.pages) {
    describe(page.file, () => {
      it('no origin URL where a browser loads or navigates (footer and rel=canonical aside)', async () => {
        const { doc, originalDoc, pageUrl } = await mirrored(page);
        const hosts = originHosts(m, page.site);
        const left = loadedUrls(doc).filter((u) => originHostOf(u.url, pageUrl, hosts));
        expect(left.map((u) => `${u.where} ${u.url}`)).toEqual([]);
        // Not vacuous: the original had absolute origin URLs in those positions (as written, so a
        // relative URL, which resolves on the mirror by itself, does not count).
        const before = loadedUrls(originalDoc).filter((u) => /^\s*(https?:)?\/\//i.test(u.url) && originHostOf(u.url, page.url, hosts));
        expect(before.length).toBeGreaterThan(0);
      });

      it('body text and element counts unchanged apart from what was injected; no new U+FFFD', async () => {
        const { html, original, doc, originalDoc } = await mirrored(page);
        expect(visibleText(body(doc))).toBe(visibleText(body(originalDoc)));
        expect(elementCounts(doc)).toEqual(elementCounts(originalDoc));
        expect(count(html, '\uFFFD')).toBeLessThanOrEqual(count(original, '\uFFFD'));
      });

      if (page.charset.toLowerCase() !== 'utf-8') {
        it('served with no charset declared anywhere: sniffed, transcoded, labelled UTF-8', async () => {
          const res = await rawRequest(proxy.url, UNDECLARED_PREFIX + mirrorPathOf(page), { headers: { host: mirrorHost(page.site) } });
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toMatch(/charset=utf-8/i);
          const html = new TextDecoder('utf-8').decode(res.body);
          const original = new TextDecoder(page.charset).decode(undeclaredBytes(page));
          expect(count(html, '\uFFFD')).toBeLessThanOrEqual(count(original, '\uFFFD'));
          expect(visibleText(body(parseHtml(html)))).toBe(visibleText(body(parseHtml(original))));
        });
      }

      const placement = PLACEMENT_KNOWN_FAILURES[engine]!.includes(page.file) ? it.fails : it;
      placement('nav first and footer last in <body>, as the browser builds it', async () => {
        const { doc } = await mirrored(page);
        const children = elementChildren(body(doc));
        expect(children[0]?.tagName).toBe('nav');
        expect(children.at(-1)?.tagName).toBe('footer');
        expect(children.at(-1)!.attrs.find((a) => a.name === 'class')?.value).toBe('mirror-footer');
      });
    });
  }
});
