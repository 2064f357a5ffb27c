/**
 * A handful of the real pages of ../shared/fixtures/real-pages/ in Chromium that cannot resolve
 * anything but loopback and the mirror's own names: the browser, with JavaScript on and off, makes
 * no request to any origin host of the page's site.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type MirrorProxy } from '../helpers/mirror.ts';
import type { PageOrigin } from '../helpers/page-origin.ts';
import {
  manifest,
  mirrorHost,
  mirrorPathOf,
  originHosts,
  realPageSites,
  startRealPagesOrigin,
} from '../helpers/real-pages.ts';
import { CHROMIUM, describeRequests, LAUNCH_ARGS, recordRequests, VIEWPORT } from './harness.ts';

const PAGES = ['wenxuecity/wxc-blog-a.html', 'bbc/bbc-zhongwen-2023.html', 'zaobao/zaobao-2023.html', 'rfi/rfi-cn-2022.html', 'twnews/udn.html', 'twnews/ettoday.html'];

describe.skipIf(!manifest)('real pages in a browser that cannot reach the origins', () => {
  const m = manifest!;
  let origin: PageOrigin;
  let proxy: MirrorProxy;
  let browser: Browser;
  beforeAll(async () => {
    origin = await startRealPagesOrigin(m);
    proxy = await startProxy({ sites: realPageSites(m, origin.url) });
    // The sites' mirror names resolve to loopback; every other name fails, as the origins do behind the firewall.
    const args = LAUNCH_ARGS.map((a) =>
      a.startsWith('--host-resolver-rules=') ? '--host-resolver-rules=MAP *.mirror.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost' : a,
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await origin?.close();
  });

  for (const file of PAGES) {
    for (const javaScriptEnabled of [true, false]) {
      it(`${file} (JavaScript ${javaScriptEnabled ? 'on' : 'off'}): 0 requests to origin hosts`, async () => {
        const page = m.pages.find((p) => p.file === file)!;
        const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', javaScriptEnabled, serviceWorkers: 'block' });
        try {
          const log = recordRequests(context);
          const tab = await context.newPage();
          const url = `http://${mirrorHost(page.site)}:${proxy.port}${mirrorPathOf(page)}`;
          const res = await tab.goto(url, { waitUntil: 'load', timeout: 45_000 }).catch(() => null);
          expect(res?.status()).toBe(200);
          // Lazy loaders and late scripts get a moment; the page is then scrolled through once.
          await tab.evaluate(() => window.scrollTo(0, document.body.scrollHeight)).catch(() => {});
          await tab.waitForTimeout(1500);
          const hosts = originHosts(m, page.site);
          const toOrigin = log.requests.filter((r) => {
            try {
              return hosts.has(new URL(r.url).hostname.replace(/\.$/, ''));
            } catch {
              return false;
            }
          });
          expect(describeRequests(toOrigin)).toEqual([]);
          // The page itself came through the mirror.
          expect(log.requests.some((r) => r.url.startsWith(`http://${mirrorHost(page.site)}:${proxy.port}/`))).toBe(true);
        } finally {
          await context.close();
        }
      });
    }
  }
});
