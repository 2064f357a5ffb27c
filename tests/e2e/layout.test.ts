/**
 * What a reader sees of the mirror's own parts, on a phone (375 px) and a desktop (1280 px): the nav
 * bar first and visible, every link of the nav bar, footer and error page a tap target of at least
 * 44 × 44 px, no horizontal scrolling caused by them, the page's own CSS kept out of them, dark mode.
 * Screenshots go to test-output/screenshots/<target>/layout-*.png.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, testSiteConfig, type MirrorProxy, type Setup } from '../helpers/mirror.ts';
import { ARTICLE_PATH } from '../helpers/origin.ts';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, newContext, SCREENSHOT_DIR, screenshot, startMirrorUnderTest } from './harness.ts';

/** What the reader sees first (the viewport, not the whole page), and the footer scrolled into view. */
async function screens(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-top.png`), animations: 'disabled' });
  await page.locator('footer.mirror-footer').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-footer.png`), animations: 'disabled' });
  await page.evaluate(() => window.scrollTo(0, 0));
}

interface Layout {
  navFirst: boolean;
  navTop: number;
  navHeight: number;
  /** The nav bar's centre is the nav bar (not covered by a page's fixed header). */
  navOnTop: boolean;
  footerLast: boolean;
  /** Links of the nav bar, the footer and the error page's <main> smaller than 44 × 44 px. */
  smallTargets: string[];
  targets: number;
  /** How far the document is wider than the viewport, and how far nav and footer reach past it. */
  overflow: number;
  chromeOverflow: number;
  navBackground: string;
  footerLinkText: string;
}

function layout(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const nav = document.querySelector('nav.mirror-nav');
    const footer = document.querySelector('footer.mirror-footer');
    const r = nav?.getBoundingClientRect();
    const links = [...document.querySelectorAll('nav.mirror-nav a, footer.mirror-footer a, main a')];
    const small = links
      .map((a) => ({ a, box: a.getBoundingClientRect() }))
      .filter(({ box }) => box.width < 44 || box.height < 44)
      .map(({ a, box }) => `${a.textContent} ${Math.round(box.width)}×${Math.round(box.height)}`);
    const centre = r ? document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + r.height / 2) : null;
    const right = Math.max(nav?.getBoundingClientRect().right ?? 0, footer?.getBoundingClientRect().right ?? 0);
    return {
      navFirst: document.body.firstElementChild === nav,
      navTop: r ? r.top + window.scrollY : -1,
      navHeight: r?.height ?? 0,
      navOnTop: !!centre && !!nav?.contains(centre),
      footerLast: document.body.lastElementChild === footer,
      smallTargets: small,
      targets: links.length,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      chromeOverflow: right - document.documentElement.clientWidth,
      navBackground: nav ? getComputedStyle(nav).backgroundColor : '',
      footerLinkText: footer?.querySelector('a')?.textContent ?? '',
    };
  });
}

/** Luminance of a computed colour, rgb(0-255 …) or color(srgb 0-1 …): 0 (black) to 1 (white). */
function luminance(color: string): number {
  const scale = color.startsWith('color(srgb') ? 1 : 255;
  const [r, g, b] = (color.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map((v) => Number(v) / scale);
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

const WIDTHS = [
  { name: 'phone', viewport: { width: 375, height: 740 }, isMobile: true },
  { name: 'desktop', viewport: { width: 1280, height: 800 }, isMobile: false },
] as const;

/** A page whose CSS targets every nav, footer and link: none of it may reach the mirror's bar. */
const HOSTILE_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>nav{display:none}footer{position:absolute;left:-9999px}a{font-size:6px;line-height:6px;padding:0;display:inline;color:#fff;float:right}
body>*{width:2000px;background:red}body{margin:0}</style><title>hostile</title></head>
<body><div class="page">文章内容 <a href="/gb/x.htm">链接</a></div></body></html>`;

let setup: Setup;
let browser: Browser;
let failing: MirrorProxy;
let hostile: MirrorProxy;
let hostileOrigin: http.Server;

beforeAll(async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  hostileOrigin = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(HOSTILE_PAGE);
  });
  await new Promise<void>((r) => hostileOrigin.listen(0, '127.0.0.1', r));
  const hostileUrl = `http://127.0.0.1:${(hostileOrigin.address() as AddressInfo).port}`;
  [setup, browser, failing, hostile] = await Promise.all([
    startMirrorUnderTest(),
    launchBrowser(),
    startProxy({ sites: [testSiteConfig(`http://127.0.0.1:${closedPort}`)] }),
    startProxy({ sites: [testSiteConfig(hostileUrl)] }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([setup?.close(), failing?.close(), hostile?.close()]);
  hostileOrigin?.close();
});

async function open(url: string, width: (typeof WIDTHS)[number], colorScheme: 'light' | 'dark' = 'light'): Promise<{ page: Page; close: () => Promise<void>; status: number }> {
  const context = await newContext(browser, { viewport: width.viewport, isMobile: width.isMobile, hasTouch: width.isMobile, colorScheme });
  const page = await context.newPage();
  const response = await page.goto(url, { waitUntil: 'load' });
  return { page, close: () => context.close(), status: response?.status() ?? 0 };
}

describe.each(WIDTHS)('layout at $viewport.width px', (width) => {
  it('an article: nav first and visible at the top, tap targets ≥ 44 px, nav and footer within the screen', async () => {
    const { page, close, status } = await open(setup.base + ARTICLE_PATH, width);
    try {
      expect(status).toBe(200);
      const l = await layout(page);
      await screenshot(page, `layout-article-${width.viewport.width}`);
      await screens(page, `layout-article-${width.viewport.width}`);
      expect(l.navFirst).toBe(true);
      expect(l.navTop).toBeLessThanOrEqual(16); // at the top (a page may keep the default 8 px body margin)
      expect(l.navHeight).toBeGreaterThanOrEqual(44);
      expect(l.navOnTop).toBe(true);
      expect(l.footerLast).toBe(true);
      expect(l.targets).toBeGreaterThanOrEqual(4);
      expect(l.smallTargets).toEqual([]);
      expect(l.chromeOverflow).toBeLessThanOrEqual(0);
      if (width.viewport.width === 375) expect(l.overflow).toBeLessThanOrEqual(0);
    } finally {
      await close();
    }
  });

  it('an error page (origin unreachable): Chinese, nav first, retry and home links ≥ 44 px, no horizontal scroll', async () => {
    const { page, close, status } = await open(`${failing.url}/gb/search.htm?q=%E5%9B%BE%E7%89%87`, width);
    try {
      expect(status).toBe(502);
      const l = await layout(page);
      await screenshot(page, `layout-error-${width.viewport.width}`);
      expect(await page.locator('h1').textContent()).toBe('暂时打不开原网站');
      expect(l.navFirst).toBe(true);
      expect(l.navOnTop).toBe(true);
      expect(l.smallTargets).toEqual([]);
      expect(l.targets).toBeGreaterThanOrEqual(6); // nav (3), retry, home, original
      expect(l.overflow).toBeLessThanOrEqual(0);
      expect(l.footerLinkText).toBe('https://www.epochtimes.com/gb/search.htm?q=图片');
    } finally {
      await close();
    }
  });

  it('a page whose CSS hides nav and footer and shrinks every link: the mirror’s bar keeps its own style', async () => {
    const { page, close } = await open(`${hostile.url}/gb/hostile.htm`, width);
    try {
      const l = await layout(page);
      await screenshot(page, `layout-hostile-${width.viewport.width}`);
      expect(l.navFirst).toBe(true);
      expect(l.navHeight).toBeGreaterThanOrEqual(44);
      expect(l.navOnTop).toBe(true);
      expect(l.smallTargets).toEqual([]);
      expect(l.chromeOverflow).toBeLessThanOrEqual(0);
    } finally {
      await close();
    }
  });
});

it('dark mode: the nav bar follows the reader’s colour scheme', async () => {
  const light = await open(setup.base + ARTICLE_PATH, WIDTHS[0], 'light');
  const dark = await open(setup.base + ARTICLE_PATH, WIDTHS[0], 'dark');
  try {
    const [l, d] = [await layout(light.page), await layout(dark.page)];
    await screens(dark.page, 'layout-article-375-dark');
    expect(luminance(l.navBackground)).toBeGreaterThan(0.8);
    expect(luminance(d.navBackground)).toBeLessThan(0.3);
    expect(d.smallTargets).toEqual([]);
  } finally {
    await Promise.all([light.close(), dark.close()]);
  }
});
