import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, body, byTag, elementChildren, parseHtml, textOf } from '../helpers/html.ts';
import { rawRequest, startProxy, startSetup, testSiteConfig, type MirrorProxy, type Setup } from '../helpers/mirror.ts';

/**
 * What a reader sees of the mirror itself: the nav bar and footer (styled, the footer's link text
 * readable), and the mirror's own error pages (in the site's language, with retry, home and nav).
 * Runs on Node and, under npm run test:worker, on the Worker.
 */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('nav bar and footer', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup();
  });
  afterAll(() => setup.close());

  it('carry the built-in inline style: all:revert isolation, 44 px tap targets, dark mode through system colours', async () => {
    const res = await rawRequest(setup.base, '/gb/');
    const doc = parseHtml(res.text);
    const nav = elementChildren(body(doc))[0]!;
    expect(attr(nav, 'class')).toBe('mirror-nav');
    const navStyle = attr(nav, 'style')!;
    expect(navStyle).toMatch(/^all:revert;/);
    expect(navStyle).toContain('color-scheme:light dark');
    expect(navStyle).toContain('background:Canvas');
    for (const a of byTag(nav, 'a')) expect(attr(a, 'style')).toMatch(/^all:revert;.*min-height:44px;min-width:44px/);
    const footer = byTag(doc, 'footer').find((f) => attr(f, 'class') === 'mirror-footer')!;
    expect(attr(footer, 'style')).toMatch(/^all:revert;/);
    expect(attr(byTag(footer, 'a')[0], 'style')).toMatch(/min-height:44px/);
    // No stylesheet is added to the page: nothing that could restyle the page's own elements.
    expect(byTag(nav, 'style')).toHaveLength(0);
    expect(byTag(footer, 'style')).toHaveLength(0);
  });

  it('shows the original URL decoded as link text; the href stays exact', async () => {
    const res = await rawRequest(setup.base, '/gb/search.htm?q=%E5%9B%BE%E7%89%87&x=a%20b');
    const footer = byTag(parseHtml(res.text), 'footer').find((f) => attr(f, 'class') === 'mirror-footer')!;
    const link = byTag(footer, 'a')[0]!;
    expect(attr(link, 'href')).toBe('https://www.epochtimes.com/gb/search.htm?q=%E5%9B%BE%E7%89%87&x=a%20b');
    // Whole UTF-8 characters are decoded; ASCII escapes (a space) stay as they are.
    expect(textOf(link)).toBe('https://www.epochtimes.com/gb/search.htm?q=图片&x=a%20b');
  });

  it('style "none": plain markup for the operator’s own CSS', async () => {
    const plain = await startSetup({ style: 'none' });
    try {
      const res = await rawRequest(plain.base, '/gb/');
      expect(res.text).toContain('<nav class="mirror-nav"><a href="/gb/">首页</a>');
      expect(res.text).not.toContain('all:revert');
    } finally {
      await plain.close();
    }
  });
});

describe('error pages', () => {
  let port: number;
  let zhCN: MirrorProxy;
  beforeAll(async () => {
    port = await closedPort();
    zhCN = await startProxy({ sites: [testSiteConfig(`http://127.0.0.1:${port}`, { hosts: ['m.example'] })] });
  });
  afterAll(() => zhCN.close());

  it('502 in simplified Chinese by default: plain words, retry, home, nav bar first, original link', async () => {
    const res = await rawRequest(zhCN.url, '/gb/a.htm?q=%E5%9B%BE', { headers: { host: 'm.example' } });
    expect(res.status).toBe(502);
    const doc = parseHtml(res.text);
    expect(attr(byTag(doc, 'html')[0], 'lang')).toBe('zh-CN');
    expect(textOf(byTag(doc, 'h1')[0]!)).toBe('暂时打不开原网站');
    expect(res.text).toContain('镜像暂时连不上原网站');
    const children = elementChildren(body(doc));
    expect(children[0]!.tagName).toBe('nav');
    expect(attr(children[0], 'class')).toBe('mirror-nav');
    const links = byTag(doc, 'a').map((a) => [textOf(a), attr(a, 'href')]);
    expect(links).toContainEqual(['重试', '']);
    expect(links).toContainEqual(['返回镜像首页', '/']);
    expect(links).toContainEqual(['https://www.epochtimes.com/gb/a.htm?q=图', 'https://www.epochtimes.com/gb/a.htm?q=%E5%9B%BE']);
    expect(res.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(res.text).not.toContain('could not be reached'); // the English wording is not the page
    expect(res.text).toContain('502 Bad Gateway'); // but the status line stays, small, for whoever reports it
  });

  it('421 (a host this mirror does not serve) in Chinese too, without a site nav', async () => {
    const res = await rawRequest(zhCN.url, '/gb/', { headers: { host: 'not-ours.example' } });
    expect(res.status).toBe(421);
    expect(textOf(byTag(parseHtml(res.text), 'h1')[0]!)).toBe('本镜像不提供这个网址');
  });

  it.each([
    ['zh-TW', '暫時打不開原網站', '重試'],
    ['en', 'Bad Gateway', 'Try again'],
  ] as const)('sites[].language %s', async (language, heading, retry) => {
    const proxy = await startProxy({ sites: [testSiteConfig(`http://127.0.0.1:${port}`, { language })] });
    try {
      const res = await rawRequest(proxy.url, '/gb/a.htm');
      expect(res.status).toBe(502);
      const doc = parseHtml(res.text);
      expect(attr(byTag(doc, 'html')[0], 'lang')).toBe(language);
      expect(textOf(byTag(doc, 'h1')[0]!)).toBe(heading);
      expect(byTag(doc, 'a').map((a) => textOf(a))).toContain(retry);
    } finally {
      await proxy.close();
    }
  });
});
