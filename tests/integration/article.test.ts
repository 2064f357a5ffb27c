import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byId, byTag, elementChildren, parseHtml, textOf, urlAttributes, type Document } from '../helpers/html.ts';
import { rawRequest, startSetup, type Setup } from '../helpers/mirror.ts';
import { ARTICLE_PATH, ARTICLE_TITLE, ARTICLE_URL } from '../helpers/origin.ts';

const ORIGIN_SPELLINGS = /^(https?:)?\/\/(www\.|i\.)?epochtimes\.com/i;

describe('article page through the Node mirror', () => {
  let setup: Setup;
  let doc: Document;
  let html: string;
  let headers: Record<string, string | string[] | undefined>;

  beforeAll(async () => {
    setup = await startSetup();
    const res = await rawRequest(setup.base, ARTICLE_PATH, { headers: { host: 'mirror.test:8080' } });
    expect(res.status).toBe(200);
    html = res.text;
    headers = res.headers;
    doc = parseHtml(html);
  });
  afterAll(() => setup.close());

  const href = (id: string, name = 'href') => attr(byId(doc, id), name);

  it('keeps the page and its Chinese text intact', () => {
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(textOf(byTag(doc, 'title')[0]!)).toContain(ARTICLE_TITLE);
    expect(html).not.toContain('\uFFFD');
    expect(textOf(byId(doc, 'headline'))).toBe(ARTICLE_TITLE);
  });

  it('maps links of every spelling to the mirror, root-relative, bytes of path and query unchanged', () => {
    expect(href('link-abs')).toBe('/gb/nsc412.htm');
    expect(href('link-http-alias')).toBe('/gb/nsc418.htm');
    expect(href('link-http-www')).toBe('/gb/nsc1025.htm');
    expect(href('link-https-bare')).toBe('/gb/nsc2007.htm');
    expect(href('link-protorel')).toBe('/gb/ncid277.htm');
    expect(href('link-rootrel')).toBe('/gb/nsc413.htm');
    expect(href('link-rel')).toBe('n12784934.htm');
    expect(href('link-img-host')).toBe('/_i/assets/uploads/2021/03/id12784940.jpg');
    expect(href('tag-pct')).toBe('/gb/tag/%E7%BE%8E%E5%9B%BD.html');
    expect(href('tag-utf8')).toBe('/gb/tag/美国.html');
    expect(href('tag-rootrel')).toBe('/gb/tag/参议院.html');
    expect(href('footer-home')).toBe('/');
    expect(href('area-link')).toBe('/gb/nsc412.htm');
    expect(href('area-rel')).toBe('/gb/nsc418.htm');
  });

  it('leaves fragments, other schemes, external links and links.rules "keep" alone', () => {
    expect(href('link-frag')).toBe('#comments');
    expect(href('link-mailto')).toBe('mailto:editor@epochtimes.com?subject=%E6%8A%95%E7%A8%BF');
    expect(href('link-js')).toBe('javascript:void(0)');
    expect(href('link-external')).toBe('https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.epochtimes.com%2Fgb%2F21%2F3%2F2%2Fn12784933.htm');
    expect(href('link-b5')).toBe('https://www.epochtimes.com/b5/21/3/2/n12784933.htm');
    expect(href('iframe-youtube', 'src')).toBe('//www.youtube.com/embed/dQw4w9WgXcQ');
    expect(href('canonical')).toBe(ARTICLE_URL);
  });

  it('maps every resource attribute and drops integrity where the URL changed', () => {
    expect(href('stylesheet')).toBe('/assets/style.css');
    expect(attr(byId(doc, 'stylesheet'), 'integrity')).toBeUndefined();
    expect(href('app-js', 'src')).toBe('/assets/app.js');
    expect(attr(byId(doc, 'app-js'), 'integrity')).toBeUndefined();
    expect(href('icon')).toBe('/_i/assets/favicon-32x32.png');
    expect(href('logo', 'src')).toBe('/_i/assets/logo.png');
    expect(href('img-protorel', 'src')).toBe('/_i/assets/uploads/2021/03/id12784941-600x400.jpg');
    expect(href('iframe-origin', 'src')).toBe('/gb/nsc412.htm');
    expect(href('video', 'poster')).toBe('/_i/assets/uploads/2021/03/poster.jpg');
    expect(href('video', 'src')).toBe('/_i/assets/uploads/2021/03/clip.mp4');
    expect(href('video-source', 'src')).toBe('/_i/assets/uploads/2021/03/clip.webm');
    expect(href('video-track', 'src')).toBe('/assets/clip.vtt');
    expect(href('audio', 'src')).toBe('/_i/assets/uploads/2021/03/podcast.mp3');
    expect(href('embed', 'src')).toBe('/_i/assets/player.swf');
    expect(href('object', 'data')).toBe('/_i/assets/uploads/2021/03/report.pdf');
    expect(href('blockquote', 'cite')).toBe('/gb/21/3/1/n12782000.htm');
    expect(href('search-form', 'action')).toBe('/gb/search.htm');
    expect(href('button-formaction', 'formaction')).toBe('/gb/post');
    expect(href('input-image', 'src')).toBe('/_i/assets/search.png');
  });

  it('rewrites every srcset candidate and keeps descriptors', () => {
    expect(href('img-srcset-x', 'srcset')).toBe('/_i/assets/uploads/2021/03/id12784943.jpg 1x, /_i/assets/uploads/2021/03/id12784943@2x.jpg 2x');
    expect(href('img-srcset-w', 'srcset')).toBe(
      '/_i/assets/uploads/2021/03/id12784944-300x200.jpg 300w, /_i/assets/uploads/2021/03/id12784944.jpg?resize=600,400&ssl=1 600w, /_i/assets/uploads/2021/03/id12784944-1200x800.jpg 1200w',
    );
    expect(href('picture-source', 'srcset')).toBe('/_i/assets/uploads/2021/03/id12784945.webp 1x, /_i/assets/uploads/2021/03/id12784945@2x.webp 2x');
    expect(href('preload-image', 'imagesrcset')).toContain('/_i/assets/uploads/2021/03/id12784940-1200x800.jpg 1200w');
    expect(href('wp-caption-img', 'srcset')).toBe('/_i/assets/uploads/2021/03/id12784940-600x400.jpg 600w, /_i/assets/uploads/2021/03/id12784940-300x200.jpg 300w');
  });

  it('rewrites lazy-loading attributes, style attributes and <style>', () => {
    expect(href('lazy-data-src', 'data-src')).toBe('/_i/assets/uploads/2021/03/lazy-1.jpg');
    expect(href('lazy-data-src', 'src')).toMatch(/^data:image\/gif;base64,/);
    expect(href('lazy-data-srcset', 'data-srcset')).toBe('/_i/assets/uploads/2021/03/lazy-2-300.jpg 300w, /_i/assets/uploads/2021/03/lazy-2-600.jpg 600w');
    expect(href('lazy-data-original', 'data-original')).toBe('/_i/assets/uploads/2021/03/lazy-3.jpg');
    expect(href('lazy-data-lazy-src', 'data-lazy-src')).toBe('/_i/assets/uploads/2021/03/lazy-4.jpg');
    expect(href('lazy-bg-plain', 'data-bg')).toBe('/_i/assets/uploads/2021/03/bg-1.jpg');
    expect(href('lazy-bg-url', 'data-bg')).toBe('url(/_i/assets/uploads/2021/03/bg-2.jpg)');
    expect(href('style-attr', 'style')).toBe('background-image:url(/_i/assets/uploads/2021/03/hero-inline.jpg); height: 200px');
    const css = textOf(byId(doc, 'inline-style'));
    expect(css).toContain('@import url("/assets/print.css") print;');
    expect(css).toContain('url(/_i/assets/uploads/2021/03/hero.jpg)');
    expect(css).toContain("url('/_i/assets/logo.png')");
    expect(css).toContain('url("/_i/assets/badge.png")');
    expect(css).toContain('url(/_i/assets/icon.png)');
    expect(css).toContain('url(/assets/wechat.png)');
  });

  it('rewrites <noscript> content, meta refresh, and og:/twitter: meta as absolute mirror URLs', () => {
    const noscript = textOf(byId(doc, 'noscript'));
    expect(noscript).toContain('src="/_i/assets/uploads/2021/03/noscript.jpg"');
    expect(href('meta-refresh', 'content')).toBe('600; url=/gb/21/3/2/n12784933.htm');
    expect(href('og-url', 'content')).toBe('http://mirror.test:8080/gb/21/3/2/n12784933.htm');
    expect(href('og-image', 'content')).toBe('http://mirror.test:8080/_i/assets/uploads/2021/03/id12784940-600x400.jpg');
    expect(href('twitter-image', 'content')).toBe('http://mirror.test:8080/_i/assets/uploads/2021/03/id12784940-600x400.jpg');
    expect(href('twitter-site', 'content')).toBe('@dajiyuan');
  });

  it('rewrites origin URLs in inline scripts and JSON-LD, escaped spellings included', () => {
    const script = textOf(byId(doc, 'inline-script'));
    expect(script).toContain('var u = "http://mirror.test:8080/gb/x.htm";');
    expect(script).toContain('var img = "http:\\/\\/mirror.test:8080\\/_i\\/assets\\/a.jpg";');
    expect(script).toContain('cdn: "//mirror.test:8080/_i/assets/"');
    expect(script).toContain('var twitter = "https://twitter.com/dajiyuan";');
    const ld = JSON.parse(textOf(byId(doc, 'json-ld')));
    expect(ld.url).toBe('http://mirror.test:8080/gb/21/3/2/n12784933.htm');
    expect(ld.image.url).toBe('http://mirror.test:8080/_i/assets/uploads/2021/03/id12784940-600x400.jpg');
    expect(ld.mainEntityOfPage['@id']).toBe('http://mirror.test:8080/gb/21/3/2/n12784933.htm');
  });

  it('leaves no origin URL in any URL attribute except the canonical link and kept/external links', () => {
    const leaks = urlAttributes(doc).filter((a) => {
      if (!ORIGIN_SPELLINGS.test(a.value) && !/[\s,(]["']?(https?:)?\/\/(www\.|i\.)?epochtimes\.com/i.test(a.value)) return false;
      return !['canonical', 'link-b5', 'nav-footer-original'].includes(a.id ?? '') && a.tag !== 'footer';
    });
    // The footer's original link is the only other place the origin is named.
    const footerLinks = byTag(byTag(doc, 'footer').find((f) => attr(f, 'class') === 'mirror-footer')!, 'a');
    const footerHrefs = new Set(footerLinks.map((a) => attr(a, 'href')));
    expect(leaks.filter((l) => !footerHrefs.has(l.value))).toEqual([]);
  });

  it('removes configured elements', () => {
    expect(() => byId(doc, 'below_article_ad')).toThrow();
    expect(html).not.toContain('below_article_ad');
  });

  it('puts the nav bar first in <body> and the original-link footer last', () => {
    const children = elementChildren(body(doc));
    const nav = children[0]!;
    expect(nav.tagName).toBe('nav');
    expect(attr(nav, 'class')).toBe('mirror-nav');
    expect(byTag(nav, 'a').map((a) => [textOf(a), attr(a, 'href')])).toEqual([
      ['首页', '/gb/'],
      ['评论', '/gb/nsc1025.htm'],
      ['翻墙', 'https://github.com/gfw-breaker/nogfw/blob/master/README.md'],
    ]);
    expect(textOf(nav)).toBe('首页 | 评论 | 翻墙');
    const footer = children[children.length - 1]!;
    expect(footer.tagName).toBe('footer');
    expect(attr(footer, 'class')).toBe('mirror-footer');
    expect(textOf(footer)).toBe(`原文链接（需翻墙）：${ARTICLE_URL}`);
    expect(attr(byTag(footer, 'a')[0], 'href')).toBe(ARTICLE_URL);
    expect(byTag(doc, 'nav').filter((n) => attr(n, 'class') === 'mirror-nav')).toHaveLength(1);
    expect(byTag(doc, 'footer').filter((n) => attr(n, 'class') === 'mirror-footer')).toHaveLength(1);
  });

  it('maps Link and Content-Location response headers', () => {
    expect(headers['link']).toBe('</_i/assets/a.jpg>; rel=preload; as=image');
    expect(headers['content-location']).toBe('/gb/');
  });
});
