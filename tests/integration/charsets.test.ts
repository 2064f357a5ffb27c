import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byId, byTag, elementChildren, parseHtml, textOf } from '../helpers/html.ts';
import { rawRequest, startProxy, startSetup, testSiteConfig, type MirrorProxy, type Setup } from '../helpers/mirror.ts';
import { startPageOrigin, type PageOrigin, type ServedPage } from '../helpers/page-origin.ts';
import {
  BIG5_ALT, BIG5_HEADER_PATH, BIG5_HEADLINE, BIG5_META_PATH, BIG5_TEXT, BIG5_TITLE,
  encodeLegacy, GB18030_EXTRA, GB18030_PATH, GBK_ALT, GBK_HEADER_PATH, GBK_HEADLINE, GBK_META_PATH, GBK_TEXT, GBK_TITLE,
} from '../helpers/origin.ts';

const PAGES = [
  { path: GBK_HEADER_PATH, title: GBK_TITLE, headline: GBK_HEADLINE, text: GBK_TEXT, alt: GBK_ALT, declared: 'header' },
  { path: GBK_META_PATH, title: GBK_TITLE, headline: GBK_HEADLINE, text: GBK_TEXT, alt: GBK_ALT, declared: 'meta' },
  { path: GB18030_PATH, title: GBK_TITLE, headline: GBK_HEADLINE, text: GBK_TEXT, alt: GBK_ALT, declared: 'meta', extra: GB18030_EXTRA },
  { path: BIG5_HEADER_PATH, title: BIG5_TITLE, headline: BIG5_HEADLINE, text: BIG5_TEXT, alt: BIG5_ALT, declared: 'header' },
  { path: BIG5_META_PATH, title: BIG5_TITLE, headline: BIG5_HEADLINE, text: BIG5_TEXT, alt: BIG5_ALT, declared: 'meta' },
];

describe('legacy Chinese charsets (bytes split across 7-byte network chunks)', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup();
  });
  afterAll(() => setup.close());

  for (const page of PAGES) {
    it(`${page.path} (charset in ${page.declared}) comes out as correct UTF-8 with links rewritten`, async () => {
      const res = await rawRequest(setup.base, page.path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/charset=utf-8$/);
      const html = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
      expect(html).not.toContain('\uFFFD');
      const doc = parseHtml(html);
      expect(textOf(byTag(doc, 'title')[0]!)).toBe(page.title);
      expect(textOf(byId(doc, 'headline'))).toBe(page.headline);
      expect(textOf(byId(doc, 'text'))).toContain(page.text);
      expect(attr(byId(doc, 'img'), 'alt')).toBe(page.alt);
      expect(attr(byId(doc, 'img'), 'src')).toMatch(/^\/_i\//);
      const link = attr(byId(doc, 'link-abs'), 'href')!;
      // links.rules keeps /b5/ pointing at the original; everything else is mirrored.
      if (page.path.startsWith('/b5/')) expect(link).toMatch(/^https:\/\/www\.epochtimes\.com\/b5\//);
      else expect(link).toMatch(/^\/gb\//);
      if (page.extra) expect(html).toContain(page.extra);
      // Every charset declaration now says UTF-8, so the browser does not re-decode the page.
      for (const meta of byTag(doc, 'meta')) {
        const charset = attr(meta, 'charset') ?? /charset=([^\s;]+)/i.exec(attr(meta, 'content') ?? '')?.[1];
        if (charset) expect(charset.toLowerCase()).toBe('utf-8');
      }
      // Injected Chinese text survives too.
      const children = elementChildren(body(doc));
      expect(textOf(children[0]!)).toContain('首页');
      expect(textOf(children[children.length - 1]!)).toContain('原文链接（需翻墙）');
    });
  }
});

describe('pages that declare no charset, or declare it late: sniffed as browsers do (BOM, header, <meta>, detector)', () => {
  const TEXT = '<p id="t">大纪元新闻网：美国国会通过新法案，中国人权问题受到关注。我们的记者在现场报道了这一重要的政治事件。</p>';
  const TRAD = '<p id="t">大紀元新聞網：美國國會通過新法案，中國人權問題受到關注。我們的記者在現場報導了這一重要的政治事件。</p>';
  const page = (text: string, metaAt?: { at: number; charset: string }) => {
    const head = '<html><head><title>t</title>';
    let filler = '';
    if (metaAt) filler = `<!--${'x'.repeat(Math.max(0, metaAt.at - head.length - 7))}-->` + `<meta charset="${metaAt.charset}">`;
    return `${head}${filler}</head><body>${text.repeat(4)}<img src="https://i.epochtimes.com/a.jpg"></body></html>`;
  };
  const pages = new Map<string, ServedPage>([
    // The minimal case: GBK bytes, `text/html` without a charset, no <meta>.
    ['/gbk-undeclared.htm', { contentType: 'text/html', body: encodeLegacy(page(TEXT), 'gbk'), chunkBytes: 7 }],
    ['/big5-undeclared.htm', { contentType: 'text/html', body: encodeLegacy(page(TRAD), 'big5'), chunkBytes: 7 }],
    ['/utf8-undeclared.htm', { contentType: 'text/html', body: page(TEXT), chunkBytes: 7 }],
    ...[960, 1960, 3060, 8060].map((at): [string, ServedPage] => [`/gbk-meta-${at}.htm`, { contentType: 'text/html', body: encodeLegacy(page(TEXT, { at, charset: 'gbk' }), 'gbk') }]),
    ['/big5-meta-8060.htm', { contentType: 'text/html', body: encodeLegacy(page(TRAD, { at: 8060, charset: 'big5' }), 'big5') }],
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

  it.each([
    ['/gbk-undeclared.htm', '大纪元新闻网'],
    ['/big5-undeclared.htm', '大紀元新聞網'],
    ['/utf8-undeclared.htm', '大纪元新闻网'],
    ['/gbk-meta-960.htm', '大纪元新闻网'],
    ['/gbk-meta-1960.htm', '大纪元新闻网'],
    ['/gbk-meta-3060.htm', '大纪元新闻网'],
    ['/gbk-meta-8060.htm', '大纪元新闻网'],
    ['/big5-meta-8060.htm', '大紀元新聞網'],
  ])('%s is transcoded and labelled UTF-8', async (path, expected) => {
    const res = await rawRequest(proxy.url, path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/charset=utf-8$/);
    const html = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
    expect(html).not.toContain('\uFFFD');
    const doc = parseHtml(html);
    expect(textOf(byId(doc, 't'))).toContain(expected);
    expect(html).toContain('src="/_i/a.jpg"');
    for (const meta of byTag(doc, 'meta')) if (attr(meta, 'charset')) expect(attr(meta, 'charset')).toBe('utf-8');
  });
});
