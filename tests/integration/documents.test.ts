import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byId, byTag, elementChildren, parseHtml, textOf } from '../helpers/html.ts';
import { rawRequest, startSetup, TARGET, type Setup } from '../helpers/mirror.ts';
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
    if (TARGET === 'node') {
      // The fast engine starts the body where the browser does: nav first, footer last (docs/html-engine.md).
      const children = elementChildren(body(doc));
      expect(children.map((c) => attr(c, 'class') ?? attr(c, 'id') ?? c.tagName)).toEqual(['mirror-nav', 'inject-start', 'p', 'mirror-footer', 'inject-end']);
      expect(elementChildren(byTag(doc, 'head')[0]!).map((c) => attr(c, 'name'))).toEqual(['mirror-head']);
    } else {
      // Workers' native lol-html appends everything at the end of such a document.
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
