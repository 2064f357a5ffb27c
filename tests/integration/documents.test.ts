import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byId, byTag, elementChildren, parseHtml, textOf } from '../helpers/html.ts';
import { rawRequest, startProxy, startSetup, testSiteConfig, type MirrorProxy, type Setup } from '../helpers/mirror.ts';
import { startPageOrigin, type PageOrigin, type ServedPage } from '../helpers/page-origin.ts';
import { ARTICLE_PATH, NO_BODY_PATH, TWO_HEADS_PATH, APP_JS_PATH, IMAGE_PATH } from '../helpers/origin.ts';

const INJECT = { head: '<meta name="mirror-head" content="1">', bodyStart: '<div id="inject-start">开始</div>', bodyEnd: '<div id="inject-end">结束</div>' };

describe('injected markup: exactly once per HTML document', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup({ inject: INJECT });
  });
  afterAll(() => setup.close());

  const count = (html: string, needle: string) => html.split(needle).length - 1;

  it('places head, nav, bodyStart, footer and bodyEnd in order on a normal page', async () => {
    const { text } = await rawRequest(setup.base, ARTICLE_PATH);
    const doc = parseHtml(text);
    const head = byTag(doc, 'head')[0]!;
    expect(elementChildren(head).at(-1)!.attrs).toEqual([{ name: 'name', value: 'mirror-head' }, { name: 'content', value: '1' }]);
    const children = elementChildren(body(doc));
    expect(children.slice(0, 2).map((c) => attr(c, 'class') ?? attr(c, 'id'))).toEqual(['mirror-nav', 'inject-start']);
    expect(children.slice(-2).map((c) => attr(c, 'class') ?? attr(c, 'id'))).toEqual(['mirror-footer', 'inject-end']);
    for (const needle of ['mirror-head', 'inject-start', 'inject-end', 'class="mirror-nav"', 'class="mirror-footer"']) expect(count(text, needle)).toBe(1);
  });

  it('appends everything once to a document without <head> or <body>', async () => {
    const { text } = await rawRequest(setup.base, NO_BODY_PATH);
    for (const needle of ['mirror-head', 'inject-start', 'inject-end', 'class="mirror-nav"', 'class="mirror-footer"']) expect(count(text, needle), needle).toBe(1);
    const doc = parseHtml(text);
    expect(textOf(byTag(doc, 'footer')[0]!)).toContain('原文链接（需翻墙）');
    if (process.env.EDGEMIRROR_HTML_ENGINE !== 'lol-html') {
      // The fast engine (the default on both runtimes) starts the body where the browser does: nav first, footer last (docs/html-engine.md).
      const children = elementChildren(body(doc));
      expect(children.map((c) => attr(c, 'class') ?? attr(c, 'id') ?? c.tagName)).toEqual(['mirror-nav', 'inject-start', 'p', 'mirror-footer', 'inject-end']);
      expect(elementChildren(byTag(doc, 'head')[0]!).map((c) => attr(c, 'name'))).toEqual(['mirror-head']);
    } else {
      // lol-html (Workers' native HTMLRewriter here) appends everything at the end of such a document.
      expect(text.startsWith('<p>hello</p>')).toBe(true);
    }
  });

  it('injects once into a document with two <head> and two <body> tags, and still rewrites both', async () => {
    const { text } = await rawRequest(setup.base, TWO_HEADS_PATH);
    for (const needle of ['mirror-head', 'inject-start', 'inject-end', 'class="mirror-nav"', 'class="mirror-footer"']) expect(count(text, needle), needle).toBe(1);
    const doc = parseHtml(text);
    expect(attr(byId(doc, 'two-heads-link1'), 'href')).toBe('/gb/nsc412.htm');
    expect(attr(byId(doc, 'two-heads-link2'), 'href')).toBe('/gb/nsc418.htm');
  });

  it('never injects into non-HTML responses', async () => {
    for (const path of [APP_JS_PATH, `/_i${IMAGE_PATH}`]) {
      const { body: bytes } = await rawRequest(setup.base, path);
      expect(bytes.includes('mirror-nav')).toBe(false);
      expect(bytes.includes('inject-start')).toBe(false);
    }
  });

  it('escapes the original URL in the footer (markup in path and query)', async () => {
    const { text } = await rawRequest(setup.base, '/gb/%22%3E%3Cscript%3Ealert(1)%3C/script%3E.htm?a=%22%3E%3Cb%3E&b=<i>');
    const doc = parseHtml(text);
    const footer = byTag(doc, 'footer').find((f) => attr(f, 'class') === 'mirror-footer')!;
    expect(byTag(footer, 'script')).toHaveLength(0);
    expect(byTag(footer, 'i')).toHaveLength(0);
    expect(byTag(footer, 'a')).toHaveLength(1);
    expect(attr(byTag(footer, 'a')[0], 'href')).toBe(textOf(byTag(footer, 'a')[0]!));
  });
});

describe('links.external and links.rules', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup({
      links: {
        external: 'neutralize',
        rules: [
          { prefix: 'https://www.epochtimes.com/b5/', action: 'keep' },
          { prefix: 'https://www.epochtimes.com/gb/nsc1025', action: 'neutralize' },
          { prefix: 'https://twitter.com/', action: 'keep' },
        ],
      },
    });
  });
  afterAll(() => setup.close());

  it('neutralizes external links to <ok>, keeping text and attributes; rules override, first match wins', async () => {
    const { text } = await rawRequest(setup.base, ARTICLE_PATH);
    const doc = parseHtml(text);
    // facebook: external → neutralized
    const fb = byId(doc, 'link-external-fb');
    expect(fb.tagName).toBe('ok');
    expect(attr(fb, 'href')).toBe('https://www.facebook.com/sharer/sharer.php?u=https://www.epochtimes.com/gb/21/3/2/n12784933.htm');
    expect(textOf(fb)).toBe('Facebook');
    // twitter: a rule keeps it
    expect(byId(doc, 'link-external').tagName).toBe('a');
    // an origin link neutralized by a rule (matched through its alias spelling http://www.…)
    expect(byId(doc, 'link-http-www').tagName).toBe('ok');
    // b5 kept pointing at the original
    expect(attr(byId(doc, 'link-b5'), 'href')).toBe('https://www.epochtimes.com/b5/21/3/2/n12784933.htm');
    // ordinary origin links still mirrored; the nav bar is not rewritten
    expect(attr(byId(doc, 'link-abs'), 'href')).toBe('/gb/nsc412.htm');
    const nav = elementChildren(body(doc))[0]!;
    expect(byTag(nav, 'a').map((a) => attr(a, 'href'))).toContain('https://github.com/gfw-breaker/nogfw/blob/master/README.md');
  });
});

describe('mount collisions and bare mounted hosts (origin → mirror is a bijection)', () => {
  const hosts = new Map<string, ServedPage>([
    ['www.epochtimes.com /page.htm', {
      contentType: 'text/html; charset=utf-8',
      body: '<html><head></head><body><img id="root-logo" src="https://www.epochtimes.com/_i/logo.png"><img id="rel-logo" src="/_i/logo.png"><script>var cdn="https://i.epochtimes.com";</script></body></html>',
    }],
    ['www.epochtimes.com /_i/logo.png', { contentType: 'text/plain', body: 'ROOT-ORIGIN LOGO' }],
    ['i.epochtimes.com /logo.png', { contentType: 'text/plain', body: 'IMAGE-ORIGIN LOGO' }],
    ['i.epochtimes.com /', { contentType: 'text/plain', body: 'IMAGE-ORIGIN HOME' }],
    ['i.epochtimes.com /?v=2', { contentType: 'text/plain', body: 'IMAGE-ORIGIN HOME v2' }],
    // Headers go through the same mapper: spellings a browser follows in a Location header.
    ['www.epochtimes.com /redirect-backslashes', { contentType: 'text/plain', body: '', status: 302, headers: { location: 'https:\\\\i.epochtimes.com\\a.jpg' } }],
    ['www.epochtimes.com /redirect-userinfo', { contentType: 'text/plain', body: '', status: 302, headers: { location: 'https://reader@i.epochtimes.com./b.jpg' } }],
    ['www.epochtimes.com /redirect-collides', { contentType: 'text/plain', body: '', status: 302, headers: { location: 'https://www.epochtimes.com/_i/logo.png' } }],
  ]);
  let origin: PageOrigin;
  let proxy: MirrorProxy;
  beforeAll(async () => {
    origin = await startPageOrigin((host, path) => hosts.get(`${host} ${path}`));
    proxy = await startProxy({ sites: [testSiteConfig(origin.url)] });
  });
  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('a root-origin path under a mount is escaped in the page and fetched from the root origin', async () => {
    const page = await rawRequest(proxy.url, '/page.htm');
    const doc = parseHtml(page.text);
    expect(attr(byId(doc, 'root-logo'), 'src')).toBe('/_root/_i/logo.png');
    expect(attr(byId(doc, 'rel-logo'), 'src')).toBe('/_root/_i/logo.png');
    expect((await rawRequest(proxy.url, '/_root/_i/logo.png')).text).toBe('ROOT-ORIGIN LOGO');
    expect((await rawRequest(proxy.url, '/_i/logo.png')).text).toBe('IMAGE-ORIGIN LOGO');
  });

  it.each([
    ['/redirect-backslashes', '/_i/a.jpg'],
    ['/redirect-userinfo', '/_i/b.jpg'],
    ['/redirect-collides', '/_root/_i/logo.png'],
  ])('Location of %s is mapped to %s', async (path, expected) => {
    const res = await rawRequest(proxy.url, path);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(expected);
  });

  it('a bare mounted host in script text works: /_i reaches that origin’s "/"', async () => {
    const page = await rawRequest(proxy.url, '/page.htm');
    const cdn = /var cdn="([^"]*)"/.exec(page.text)![1]!;
    expect(cdn).toMatch(/\/_i$/);
    expect((await rawRequest(proxy.url, new URL(cdn).pathname)).text).toBe('IMAGE-ORIGIN HOME');
    expect((await rawRequest(proxy.url, '/_i?v=2')).text).toBe('IMAGE-ORIGIN HOME v2');
  });
});
