/**
 * Pages in a real browser that cannot reach the origin: every request the browser makes (CSS,
 * srcset, lazy-loading scripts, <noscript> with JavaScript off, fonts, iframes of the origin)
 * goes to the mirror; every image shown decodes; the nav bar comes first in <body> and the
 * original-link footer last; GBK/Big5 pages show their Chinese text. One screenshot per page
 * and JavaScript setting under test-output/screenshots/.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Setup } from '../helpers/mirror.ts';
import {
  ARTICLE_PATH,
  ARTICLE_URL,
  BIG5_ALT,
  BIG5_HEADER_PATH,
  BIG5_HEADLINE,
  BIG5_META_PATH,
  BIG5_TEXT,
  BIG5_TITLE,
  CHANNEL_PATH,
  FIXTURE_ARTICLE_PATH,
  FIXTURE_ARTICLE_URL,
  GB18030_EXTRA,
  GB18030_PATH,
  GBK_ALT,
  GBK_HEADER_PATH,
  GBK_HEADLINE,
  GBK_META_PATH,
  GBK_TEXT,
  GBK_TITLE,
  WWW_ORIGIN,
} from '../helpers/origin.ts';
import {
  describeRequests,
  failedSubresources,
  launchBrowser,
  leaks,
  mirrorChrome,
  mirrorFrames,
  newContext,
  originResourceUrls,
  recordRequests,
  screenshot,
  scrollThrough,
  settleImages,
  shownImages,
  startMirrorUnderTest,
} from './harness.ts';

interface Legacy {
  title: string;
  headline: string;
  text: string;
  alt: string;
  extra?: string;
}

interface PageCase {
  name: string;
  path: string;
  original: string;
  /** Third-party hosts the page content itself embeds (never an origin host). */
  thirdParty?: string[];
  legacy?: Legacy;
  /** At least this many images shown. */
  minImages: number;
}

const GBK: Legacy = { title: GBK_TITLE, headline: GBK_HEADLINE, text: GBK_TEXT, alt: GBK_ALT };
const BIG5: Legacy = { title: BIG5_TITLE, headline: BIG5_HEADLINE, text: BIG5_TEXT, alt: BIG5_ALT };

const PAGES: PageCase[] = [
  // The article embeds a YouTube video (kept as the origin wrote it: the mirror does not proxy third parties).
  { name: 'article', path: ARTICLE_PATH, original: ARTICLE_URL, thirdParty: ['www.youtube.com'], minImages: 40 },
  { name: 'channel', path: CHANNEL_PATH, original: WWW_ORIGIN + CHANNEL_PATH, minImages: 12 },
  { name: 'gbk-header', path: GBK_HEADER_PATH, original: WWW_ORIGIN + GBK_HEADER_PATH, legacy: GBK, minImages: 2 },
  { name: 'gbk-meta', path: GBK_META_PATH, original: WWW_ORIGIN + GBK_META_PATH, legacy: GBK, minImages: 2 },
  { name: 'gb18030', path: GB18030_PATH, original: WWW_ORIGIN + GB18030_PATH, legacy: { ...GBK, extra: GB18030_EXTRA }, minImages: 2 },
  { name: 'big5-header', path: BIG5_HEADER_PATH, original: WWW_ORIGIN + BIG5_HEADER_PATH, legacy: BIG5, minImages: 2 },
  { name: 'big5-meta', path: BIG5_META_PATH, original: WWW_ORIGIN + BIG5_META_PATH, legacy: BIG5, minImages: 2 },
  { name: 'fixture-article', path: FIXTURE_ARTICLE_PATH, original: FIXTURE_ARTICLE_URL, minImages: 12 },
];

let setup: Setup;
let browser: Browser;

beforeAll(async () => {
  [setup, browser] = await Promise.all([startMirrorUnderTest(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await setup?.close();
});

describe.each([
  { js: true, suffix: '' },
  { js: false, suffix: '-nojs' },
])('in Chromium with JavaScript $js', ({ js, suffix }) => {
  it.each(PAGES)('$name: nothing leaves the mirror, images decode, nav first, footer last', async (c) => {
    const context = await newContext(browser, { javaScriptEnabled: js });
    try {
      const log = recordRequests(context);
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(String(e)));

      const response = await page.goto(setup.base + c.path, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      if (js) await scrollThrough(page);
      await settleImages(page, setup.base);
      await page.waitForLoadState('networkidle');
      // Before the assertions, so there is something to look at when one fails.
      await screenshot(page, `${c.name}${suffix}`);
      await page.waitForLoadState('networkidle');

      expect.soft(describeRequests(leaks(log.requests, setup.base, c.thirdParty)), 'requests that left the mirror').toEqual([]);
      expect.soft(await originResourceUrls(page, setup.base), 'origin URLs the page still names as resources').toEqual([]);
      expect.soft(describeRequests(failedSubresources(log.requests, setup.base)), 'images, styles, scripts the mirror failed').toEqual([]);

      const images = await shownImages(page, setup.base);
      expect.soft(images.length, 'images shown').toBeGreaterThanOrEqual(c.minImages);
      expect.soft(images.filter((i) => !i.complete || i.naturalWidth === 0), 'images that did not decode').toEqual([]);

      const chrome = await mirrorChrome(page);
      expect.soft(chrome).toMatchObject({
        firstChild: 'nav.mirror-nav',
        lastChild: 'footer.mirror-footer',
        textBeforeNav: '',
        textAfterFooter: '',
        navCount: 1,
        footerCount: 1,
        navVisible: true,
        footerHref: c.original,
      });
      expect.soft(chrome.footerText).toContain(c.original);
      // Iframes of origin pages are mirror pages too, with their own nav bar and footer.
      for (const frame of mirrorFrames(page, setup.base).filter((f) => f !== page.mainFrame())) {
        expect.soft((await mirrorChrome(frame)).firstChild, `nav in ${frame.url()}`).toBe('nav.mirror-nav');
      }

      if (c.legacy) {
        const seen = await page.evaluate(() => ({
          charset: document.characterSet,
          title: document.title,
          text: document.body.innerText,
          headline: document.getElementById('headline')?.textContent,
          paragraph: document.getElementById('text')?.textContent,
          extra: document.getElementById('extra')?.textContent ?? null,
          alts: [...document.images].map((i) => i.alt),
          linkTitle: document.getElementById('link-abs')?.getAttribute('title'),
        }));
        expect.soft(seen.charset).toBe('UTF-8');
        expect.soft(seen.title + seen.text, 'U+FFFD on the page').not.toContain('\uFFFD');
        expect.soft(seen.title).toBe(c.legacy.title);
        expect.soft(seen.headline).toBe(c.legacy.headline);
        expect.soft(seen.paragraph).toBe(c.legacy.text);
        expect.soft(seen.alts).toEqual([c.legacy.alt, c.legacy.alt]);
        if (c.legacy.extra) expect.soft(seen.extra).toBe(c.legacy.extra);
      }

      if (c.name === 'fixture-article') {
        const mirrorPaths = log.requests.map((r) => ({ type: r.resourceType, path: new URL(r.url).pathname }));
        // @font-face in the theme stylesheet (relative, root-relative on the /_i/ mount) was fetched through the mirror.
        expect.soft(mirrorPaths.filter((r) => r.type === 'font' && r.path.startsWith('/_i/assets/themes/et/fonts/')).length, 'web fonts').toBeGreaterThan(0);
        // The ten WordPress figures of the real article: via the lazy-load script (JS) or the <noscript> fallback.
        const figures = images.filter((i) => i.src.includes('/_i/assets/uploads/2022/04/'));
        expect.soft(figures.length, 'article figures shown').toBeGreaterThanOrEqual(10);
        if (js) {
          expect.soft(images.find((i) => i.id === 'et-badge')?.naturalWidth, 'image built by script from wp_localize_script config').toBeGreaterThan(0);
          expect.soft(mirrorPaths.some((r) => r.path === '/_i/assets/themes/et/images/hero-banner.jpg'), 'data-bg swapped in by script').toBe(true);
        }
        expect.soft(mirrorPaths.some((r) => r.path === '/gb/nsc412.htm' && r.type === 'document'), 'sidebar iframe of a channel page').toBe(true);
      }
      expect.soft(pageErrors, 'JavaScript errors').toEqual([]);
    } finally {
      await context.close();
    }
  });
});
