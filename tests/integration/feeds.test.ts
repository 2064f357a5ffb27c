import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHtml, urlAttributes } from '../helpers/html.ts';
import { rawRequest, startProxy, startSetup, testSiteConfig, type MirrorProxy, type Setup } from '../helpers/mirror.ts';
import { startPageOrigin, type PageOrigin, type ServedPage } from '../helpers/page-origin.ts';
import { encodeLegacy, ATOM_PATH, FEED_NSC412_FILE, FEED_NSC412_PATH, FEED_NSC418_FILE, FEED_NSC418_PATH } from '../helpers/origin.ts';

const MIRROR = 'http://mirror.test';

function items(xml: string): string[] {
  return [...xml.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => m[1]!);
}
function element(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
}
function cdata(text: string): string {
  const m = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(text);
  return m ? m[1]! : text;
}

describe('RSS and Atom feeds (real Epoch Times fixtures)', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup();
  });
  afterAll(() => setup.close());

  for (const [path, file, contentElement] of [
    [FEED_NSC412_PATH, FEED_NSC412_FILE, 'content'],
    [FEED_NSC418_PATH, FEED_NSC418_FILE, 'content:encoded'],
  ] as const) {
    it(`${path}: links, guids and article HTML point at the mirror, absolute`, async () => {
      const input = readFileSync(file, 'utf8');
      const res = await rawRequest(setup.base, path, { headers: { host: 'mirror.test' } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/rss\+xml/);
      const xml = res.text;
      const inItems = items(input);
      const outItems = items(xml);
      expect(outItems).toHaveLength(inItems.length);
      expect(outItems.length).toBeGreaterThan(50);

      for (const [i, item] of outItems.entries()) {
        for (const link of element(item, 'link')) expect(link.trim(), `item ${i} link`).toMatch(/^http:\/\/mirror\.test\/(gb|b5)\//);
        for (const guid of element(item, 'guid')) {
          if (/epochtimes\.com/.test(element(inItems[i]!, 'guid')[0] ?? '')) expect(guid.trim()).toMatch(/^http:\/\/mirror\.test\//);
        }
        const inHtml = cdata(element(inItems[i]!, contentElement)[0]!);
        const outHtml = cdata(element(item, contentElement)[0]!);
        const inDoc = parseHtml(inHtml);
        const outDoc = parseHtml(outHtml);
        const inAttrs = urlAttributes(inDoc);
        const outAttrs = urlAttributes(outDoc);
        // Same elements and attributes: only URL values changed.
        expect(outAttrs.map((a) => `${a.tag}@${a.name}`)).toEqual(inAttrs.map((a) => `${a.tag}@${a.name}`));
        for (const [j, a] of outAttrs.entries()) {
          const before = inAttrs[j]!.value;
          if (/^(https?:)?\/\/(www\.|i\.)?epochtimes\.com\/(?!b5\/)/i.test(before.trim())) {
            expect(a.value, `item ${i} ${a.tag}@${a.name}`).toMatch(/^http:\/\/mirror\.test\/(_i\/)?/);
          } else if (a.name !== 'srcset' && a.name !== 'style') {
            expect(a.value).toBe(before);
          }
        }
        // Images from the image host go through its mount.
        for (const img of [...outAttrs].filter((a) => a.tag === 'img' && a.name === 'src')) {
          if (!img.value.startsWith('data:')) expect(img.value).toMatch(/^http:\/\/mirror\.test\/_i\/|^https?:\/\/(?!(www\.|i\.)?epochtimes\.com)/);
        }
      }
      // The channel-level link and atom:link too.
      expect(xml).not.toMatch(/<link>\s*https?:\/\/(www\.)?epochtimes\.com/);
      expect(xml).not.toMatch(/<atom:link href="https?:\/\/(www\.)?epochtimes\.com/);
    });
  }

  it('keeps protocol-relative YouTube iframes (not mirrored) in the 2018 feed', async () => {
    const res = await rawRequest(setup.base, FEED_NSC418_PATH, { headers: { host: 'mirror.test' } });
    const iframeSrcs = (xml: string) =>
      element(xml, 'content:encoded').flatMap((c) => urlAttributes(parseHtml(cdata(c))).filter((a) => a.tag === 'iframe').map((a) => a.value));
    const before = iframeSrcs(readFileSync(FEED_NSC418_FILE, 'utf8'));
    const after = iframeSrcs(res.text);
    expect(before.some((src) => src.startsWith('//www.youtube.com/'))).toBe(true);
    expect(after).toEqual(before);
  });

  it('Atom: link hrefs, ids, enclosures and escaped HTML content', async () => {
    const res = await rawRequest(setup.base, ATOM_PATH, { headers: { host: 'mirror.test' } });
    const xml = res.text;
    expect(xml).not.toMatch(/https?:\/\/(www\.|i\.)?epochtimes\.com/);
    expect(xml).toContain(`href="${MIRROR}/gb/21/3/2/n12784933.htm"`);
    expect(xml).toContain(`href="${MIRROR}/_i/assets/uploads/2021/03/id12784940-600x400.jpg"`);
    const content = element(xml, 'content')[0]!;
    expect(content).toContain('&lt;');
    const html = content.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    const imgs = urlAttributes(parseHtml(html)).filter((a) => a.tag === 'img');
    expect(imgs.length).toBeGreaterThan(0);
    for (const img of imgs) expect(img.value).toMatch(/^http:\/\/mirror\.test\/_i\//);
  });
});

describe('feeds: declared encodings, bad references, unclosed elements', () => {
  const ITEM = '<item><title>大紀元新聞</title><link>https://www.epochtimes.com/b5/a.htm</link><description><![CDATA[<p>中文<img src="https://i.epochtimes.com/a.jpg"></p>]]></description></item>';
  const big5Feed = encodeLegacy(`<?xml version="1.0" encoding="big5"?><rss version="2.0"><channel><title>大紀元</title>${ITEM}</channel></rss>`, 'big5');
  // A 4× larger version of the case measured at 1.6 s: a per-opener regex would take ~25 s here.
  const unclosed = `<?xml version="1.0"?><rss><channel>${'<description>x'.repeat(32_000)}${'y'.repeat(800_000)}<link>https://www.epochtimes.com/gb/z.htm</link></channel></rss>`;
  const pages = new Map<string, ServedPage>([
    ['/big5-declared-in-xml.xml', { contentType: 'application/rss+xml', body: big5Feed }],
    ['/big5-declared-in-header.xml', { contentType: 'application/rss+xml; charset=big5', body: big5Feed }],
    ['/bad-reference.xml', { contentType: 'application/rss+xml', body: `<?xml version="1.0" encoding="utf-8"?><rss><channel><item><description>&lt;p&gt;&#x110000; &#0; &#xD800; ok&lt;img src="https://i.epochtimes.com/b.jpg"&gt;&lt;/p&gt;</description></item></channel></rss>` }],
    ['/unclosed.xml', { contentType: 'application/rss+xml', body: unclosed }],
  ]);
  let origin: PageOrigin;
  let proxy: MirrorProxy;
  beforeAll(async () => {
    origin = await startPageOrigin(pages);
    proxy = await startProxy({ sites: [testSiteConfig(origin.url)] });
  });
  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it.each(['/big5-declared-in-xml.xml', '/big5-declared-in-header.xml'])('%s: transcoded, and the XML declaration says utf-8', async (path) => {
    const res = await rawRequest(proxy.url, path);
    expect(res.status).toBe(200);
    const xml = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
    expect(xml).toContain('<title>大紀元</title>');
    expect(xml).toContain('<img src="http://127.0.0.1');
    expect(xml).not.toContain('\uFFFD');
    if (res.headers['content-type']!.includes('charset')) expect(res.headers['content-type']).toMatch(/charset=utf-8/);
  });

  it('a reference to no character (&#x110000;) does not fail the feed', async () => {
    const res = await rawRequest(proxy.url, '/bad-reference.xml');
    expect(res.status).toBe(200);
    expect(res.text).toContain('ok');
    expect(res.text).toMatch(/_i\/b\.jpg/);
    expect(res.text).not.toContain('i.epochtimes.com');
  });

  it('32,000 unclosed <description> tags and 800 KB of text: linear, rewritten, answered', async () => {
    const started = Date.now();
    const res = await rawRequest(proxy.url, '/unclosed.xml');
    expect(res.status).toBe(200);
    expect(res.body.length).toBeGreaterThan(800_000);
    expect(res.text).not.toContain('https://www.epochtimes.com/gb/z.htm');
    expect(res.text).toContain('/gb/z.htm</link>');
    // Generous: linear work is well under a second even on a loaded machine.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
