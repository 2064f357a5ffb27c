/**
 * Click-through in a real browser that cannot reach the origin: tag links, the mirror's nav bar,
 * search forms (GET and a POST formaction), origin redirects and Refresh headers, a full-size image
 * link that opens a new tab, back and forward. Every stop must be a mirror URL that loads, and no
 * request may leave the mirror on the way.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Setup } from '../helpers/mirror.ts';
import {
  ARTICLE_HEADLINE,
  ARTICLE_PATH,
  CHANNEL_PATH,
  FIXTURE_ARTICLE_PATH,
  REDIRECT_ABS_PATH,
  REDIRECT_REL_PATH,
  REFRESH_HEADER_PATH,
  SEARCH_PATH,
  TAG_PATH_ENCODED,
} from '../helpers/origin.ts';
import { describeRequests, launchBrowser, leaks, mirrorChrome, newContext, recordRequests, type RequestLog, screenshot, startMirrorUnderTest } from './harness.ts';

let setup: Setup;
let browser: Browser;
let context: BrowserContext;
let log: RequestLog;
let page: Page;

beforeAll(async () => {
  [setup, browser] = await Promise.all([startMirrorUnderTest(), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await setup?.close();
});
beforeEach(async () => {
  context = await newContext(browser);
  log = recordRequests(context);
  page = await context.newPage();
});
afterEach(async () => {
  // The test article embeds a YouTube player: the only host besides the mirror a page may name.
  expect(describeRequests(leaks(log.requests, setup.base, ['www.youtube.com'])), 'requests that left the mirror').toEqual([]);
  await context.close();
});

const url = (path: string) => setup.base + path;

/** The page is a mirror page that loaded: mirror URL, nav bar first, footer last. */
async function expectMirrorPage(p: Page, path: string): Promise<void> {
  expect(p.url()).toBe(url(path));
  const chrome = await mirrorChrome(p);
  expect(chrome.firstChild).toBe('nav.mirror-nav');
  expect(chrome.lastChild).toBe('footer.mirror-footer');
}

const SENATE_TAG = '/gb/tag/%E5%8F%82%E8%AE%AE%E9%99%A2.html'; // 参议院, linked root-relative and unencoded

describe('click-through in Chromium', () => {
  it('tag links and the nav bar land on mirror pages that load; back and forward retrace them', async () => {
    await page.goto(url(ARTICLE_PATH));
    await expectMirrorPage(page, ARTICLE_PATH);

    await page.click('#tag-pct');
    await page.waitForURL(url(TAG_PATH_ENCODED));
    await expectMirrorPage(page, TAG_PATH_ENCODED);
    expect(await page.textContent('#tag-name')).toBe('美国');

    await page.goBack();
    await page.click('#tag-rootrel');
    await page.waitForURL(url(SENATE_TAG));
    expect(await page.textContent('#tag-name')).toBe('参议院');

    await page.click('nav.mirror-nav a:text-is("首页")');
    await page.waitForURL(url('/gb/'));
    await expectMirrorPage(page, '/gb/');
    expect(await page.textContent('#channel-title')).toBe('大纪元首页');
    await screenshot(page, 'nav-home');

    await page.goBack();
    await page.waitForURL(url(SENATE_TAG));
    expect(await page.textContent('#tag-name')).toBe('参议院');
    await page.goBack();
    await page.waitForURL(url(ARTICLE_PATH));
    expect(await page.textContent('#headline')).toBe(ARTICLE_HEADLINE);
    await page.goForward();
    await page.waitForURL(url(SENATE_TAG));
    await page.goForward();
    await page.waitForURL(url('/gb/'));
    await expectMirrorPage(page, '/gb/');
  });

  it('the search form submits to the mirror, and so does the search page’s own form', async () => {
    await page.goto(url(ARTICLE_PATH));
    await page.fill('#search-q', '参议院');
    // Implicit submission uses the form's first submit button, its <input type=image>: q plus x and y.
    await page.press('#search-q', 'Enter');
    await page.waitForURL((u) => u.origin === new URL(setup.base).origin && u.pathname === SEARCH_PATH && u.searchParams.get('q') === '参议院');
    expect(await page.textContent('#query')).toBe('参议院');
    await expectMirrorPage(page, new URL(page.url()).pathname + new URL(page.url()).search);

    await page.fill('#search-form input[name=q]', '商务部');
    await page.press('#search-form input[name=q]', 'Enter');
    await page.waitForURL(url(`${SEARCH_PATH}?q=${encodeURIComponent('商务部')}`));
    expect(await page.textContent('#query')).toBe('商务部');
    await screenshot(page, 'search-results');
  });

  it('a POST through a formaction button goes to the mirror and reaches the origin', async () => {
    await page.goto(url(ARTICLE_PATH));
    await page.fill('#search-q', '提交内容');
    await page.click('#button-formaction');
    await page.waitForURL(url('/gb/post'));
    expect(await page.textContent('#field-q')).toBe('提交内容');
    expect(await page.textContent('#content-type')).toContain('application/x-www-form-urlencoded');
  });

  it('origin redirects and a Refresh header land on the mirror', async () => {
    const abs = await page.goto(url(REDIRECT_ABS_PATH));
    expect(abs?.status()).toBe(200);
    expect(abs?.request().redirectedFrom()?.url()).toBe(url(REDIRECT_ABS_PATH));
    await expectMirrorPage(page, ARTICLE_PATH);
    expect(await page.textContent('#headline')).toBe(ARTICLE_HEADLINE);

    const rel = await page.goto(url(REDIRECT_REL_PATH));
    expect(rel?.status()).toBe(200);
    await expectMirrorPage(page, CHANNEL_PATH);

    await page.goto(url(REFRESH_HEADER_PATH));
    await page.waitForURL(url('/gb/'));
    await expectMirrorPage(page, '/gb/');
  });

  it('on a real article: a tag in the text, the channel menu and a full-size image opened in a new tab stay on the mirror', async () => {
    await page.goto(url(FIXTURE_ARTICLE_PATH));
    const tagHref = await page.getAttribute('#post-content a[href*="/gb/tag/"] >> nth=0', 'href');
    expect(tagHref).toMatch(/^\/gb\/tag\/%[0-9A-F]{2}/);
    await page.click('#post-content a[href*="/gb/tag/"] >> nth=0');
    await page.waitForURL(url(tagHref!));
    await expectMirrorPage(page, tagHref!);

    await page.goBack();
    await page.waitForURL(url(FIXTURE_ARTICLE_PATH));
    await page.click('#channel-menu a:text-is("美国")');
    await page.waitForURL(url(CHANNEL_PATH));
    await expectMirrorPage(page, CHANNEL_PATH);

    await page.goBack();
    await page.waitForURL(url(FIXTURE_ARTICLE_PATH));
    const [popup] = await Promise.all([context.waitForEvent('page'), page.click('#post-content figure a >> nth=0')]);
    await popup.waitForLoadState('load');
    expect(popup.url()).toMatch(new RegExp(`^${setup.base}/_i/assets/uploads/2022/04/id\\d+-GettyImages-\\d+\\.jpg$`));
    expect(await popup.evaluate(() => (document.querySelector('img') as HTMLImageElement | null)?.naturalWidth)).toBeGreaterThan(0);
  });
});
