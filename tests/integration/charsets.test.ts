import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byId, byTag, elementChildren, parseHtml, textOf } from '../helpers/html.ts';
import { rawRequest, startSetup, type Setup } from '../helpers/mirror.ts';
import {
  BIG5_ALT, BIG5_HEADER_PATH, BIG5_HEADLINE, BIG5_META_PATH, BIG5_TEXT, BIG5_TITLE,
  GB18030_EXTRA, GB18030_PATH, GBK_ALT, GBK_HEADER_PATH, GBK_HEADLINE, GBK_META_PATH, GBK_TEXT, GBK_TITLE,
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
