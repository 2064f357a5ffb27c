/**
 * An export (edgemirror export --assets copy) in a browser that cannot reach the origin: served by a
 * plain static file server from a subdirectory, and opened from file://. Every page renders with the
 * mirror's nav and footer, every image shows, relative links lead to the exported pages, and the
 * browser sends no request anywhere but the static server (none at all from file://).
 */
import { createReadStream, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../cli/cli-helpers.ts';
import { testSiteConfig } from '../helpers/mirror.ts';
import { FEED_NSC412_PATH, startTestOrigin, type TestOrigin } from '../helpers/origin.ts';
import { describeRequests, isOriginHost, launchBrowser, leaks, mirrorChrome, newContext, recordRequests, screenshot, settleImages, shownImages } from './harness.ts';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.png': 'image/png', '.woff2': 'font/woff2', '.woff': 'font/woff', '.md': 'text/markdown; charset=utf-8' };
/** Where the copy is served: not the server's root, so links that assume "/" would break. */
const PREFIX = '/some/sub/dir/';

/** A plain static file server (no rewriting, no directory indexes) for `root` under PREFIX. */
async function startStatic(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://static.invalid').pathname);
    const file = p.startsWith(PREFIX) ? path.join(root, p.slice(PREFIX.length)) : null;
    if (!file || !file.startsWith(root) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function htmlFiles(root: string, rel = ''): string[] {
  return readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name.startsWith('.') ? [] : htmlFiles(root, r);
    return r.endsWith('.html') ? [r] : [];
  });
}

/** Images in the page (all frames) that are rendered but did not decode. */
async function brokenImages(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const frame of page.frames()) {
    out.push(
      ...(await frame.evaluate(() =>
        [...document.images].filter((img) => img.getClientRects().length > 0 && (!img.complete || img.naturalWidth === 0)).map((img) => img.currentSrc || img.src),
      )),
    );
  }
  return out;
}

describe('an export in the browser, behind the simulated firewall', { timeout: 120_000 }, () => {
  let origin: TestOrigin;
  let out: string;
  let stat: { url: string; close(): Promise<void> };
  let browser: Browser;
  let files: string[];

  beforeAll(async () => {
    origin = await startTestOrigin();
    const work = tempDir();
    const config = path.join(work, 'config.json');
    writeFileSync(config, JSON.stringify({ sites: [testSiteConfig(origin.url)] }));
    out = path.join(work, 'copy');
    const r = await runCli(['export', '--config', config, '--out', out, '--from', FEED_NSC412_PATH, '--limit', '6', '--delay', '0', '--assets', 'copy'], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    files = htmlFiles(out).sort();
    stat = await startStatic(out);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stat?.close();
    await origin?.close();
  });

  it('every page renders from a subdirectory of a static host, images shown, no request but to that host', async () => {
    expect(files.length).toBe(6 + 2);
    const context = await newContext(browser);
    const log = recordRequests(context);
    const page = await context.newPage();
    let images = 0;
    for (const f of files) {
      const res = await page.goto(stat.url + PREFIX + f, { waitUntil: 'load' });
      expect(res?.status(), f).toBe(200);
      await settleImages(page, stat.url);
      const chrome = await mirrorChrome(page);
      expect(chrome.firstChild, f).toBe('nav.mirror-nav');
      expect(chrome.navVisible, f).toBe(true);
      if (/\/n\d+\.html$/.test(f)) {
        expect(chrome.lastChild, f).toBe('footer.mirror-footer');
        expect(chrome.footerText, f).toContain('原文链接（需翻墙）');
      }
      expect(await brokenImages(page), f).toEqual([]);
      images += (await shownImages(page, stat.url)).length;
    }
    expect(images).toBeGreaterThan(6);
    expect(describeRequests(leaks(log.requests, stat.url))).toEqual([]);
    expect(log.requests.filter((r) => isOriginHost(new URL(r.url).hostname))).toEqual([]);
    expect(log.requests.filter((r) => r.status !== 200).map((r) => `${r.url} ${r.status ?? r.failure}`)).toEqual([]);

    // Relative links: from the channel index to an article and back through the site's own channel menu.
    await page.goto(stat.url + PREFIX + 'gb/nsc412/index.html');
    const firstTitle = await page.locator('ul.export-index li a').first().textContent();
    await page.locator('ul.export-index li a').first().click();
    await page.waitForLoadState('load');
    expect(page.url()).toMatch(new RegExp(`^${stat.url}${PREFIX}gb/\\d+/\\d+/\\d+/n\\d+\\.html$`));
    expect(await page.locator('h1').first().textContent()).toBe(firstTitle);
    await settleImages(page, stat.url);
    const shot = await screenshot(page, 'export-article');
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    await page.locator('#channel-menu a', { hasText: '美国' }).click();
    await page.waitForLoadState('load');
    expect(page.url()).toBe(`${stat.url}${PREFIX}gb/nsc412/index.html`);
    await context.close();
  });

  it('works from file://: links lead to the pages, images show, no network request at all', async () => {
    const context = await newContext(browser);
    const log = recordRequests(context);
    const page = await context.newPage();
    await page.goto(pathToFileURL(path.join(out, 'index.html')).href);
    await page.locator('ul.export-index li a').first().click();
    await page.waitForLoadState('load');
    expect(page.url()).toBe(pathToFileURL(path.join(out, 'gb/nsc412/index.html')).href);
    const links = await page.locator('ul.export-index li a').count();
    expect(links).toBe(6);
    for (let i = 0; i < links; i++) {
      await page.goto(pathToFileURL(path.join(out, 'gb/nsc412/index.html')).href);
      const title = await page.locator('ul.export-index li a').nth(i).textContent();
      await page.locator('ul.export-index li a').nth(i).click();
      await page.waitForLoadState('load');
      expect(page.url()).toMatch(/^file:\/\/.*\/gb\/\d+\/\d+\/\d+\/n\d+\.html$/);
      expect(await page.locator('h1').first().textContent()).toBe(title);
      await page.evaluate(() =>
        Promise.all(
          [...document.images].map((img) =>
            img.complete
              ? null
              : new Promise((r) => {
                  img.addEventListener('load', r, { once: true });
                  img.addEventListener('error', r, { once: true });
                  setTimeout(r, 5000);
                }),
          ),
        ),
      );
      expect(await brokenImages(page)).toEqual([]);
    }
    await screenshot(page, 'export-article-file');
    expect(log.requests.filter((r) => !r.url.startsWith('file://') && !/^(data|about):/.test(r.url)).map((r) => r.url)).toEqual([]);
    await context.close();
  });
});
