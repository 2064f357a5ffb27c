/**
 * The browser harness: headless Chromium (Debian's package) that cannot resolve any host but
 * loopback, the way a reader behind the firewall cannot reach the origin, in front of the mirror
 * under test. Records every request of a browser context, and checks what a reader would see.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Frame, type Page, type Request } from 'playwright-core';
import { startSetup, TARGET, type Setup } from '../helpers/mirror.ts';

export const CHROMIUM = process.env.EDGEMIRROR_CHROMIUM ?? '/usr/bin/chromium';

export { TARGET };

/**
 * The mirror under test in front of the test origin: the Node server, or with EDGEMIRROR_TARGET=worker
 * the Worker bundle in workerd (startSetup() picks the target, as for the integration suite).
 * The browser only needs its loopback base URL.
 */
export function startMirrorUnderTest(): Promise<Setup> {
  return startSetup();
}

export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-output/screenshots', TARGET);

export const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Every host but loopback fails to resolve: a request to the origin fails as it would behind the firewall.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/** Chromium with a fresh profile (Playwright creates a new temporary --user-data-dir per launch and deletes it on close). */
export function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y --no-install-recommends chromium), as .ci/run does`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS, timeout: 30_000 });
}

export const VIEWPORT = { width: 1280, height: 800 };

export function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', serviceWorkers: 'allow', ...options });
}

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

export interface RecordedRequest {
  url: string;
  method: string;
  resourceType: string;
  /** URL of the frame that made it ('' for service workers). */
  frameUrl: string;
  fromServiceWorker: boolean;
  status?: number;
  contentType?: string;
  failure?: string;
}

export interface RequestLog {
  readonly requests: RecordedRequest[];
  clear(): void;
}

/** Records every request of a context: pages, iframes (also out-of-process ones), service workers, redirects. */
export function recordRequests(context: BrowserContext): RequestLog {
  const requests: RecordedRequest[] = [];
  const byRequest = new Map<Request, RecordedRequest>();
  context.on('request', (r) => {
    let frameUrl = '';
    try {
      frameUrl = r.frame().url();
    } catch {
      // service worker requests have no frame
    }
    const rec: RecordedRequest = {
      url: r.url(),
      method: r.method(),
      resourceType: r.resourceType(),
      frameUrl,
      fromServiceWorker: r.serviceWorker() !== null,
    };
    requests.push(rec);
    byRequest.set(r, rec);
  });
  context.on('response', (res) => {
    const rec = byRequest.get(res.request());
    if (!rec) return;
    rec.status = res.status();
    rec.contentType = res.headers()['content-type'];
  });
  context.on('requestfailed', (r) => {
    const rec = byRequest.get(r);
    if (rec) rec.failure = r.failure()?.errorText ?? 'failed';
  });
  return {
    requests,
    clear() {
      requests.length = 0;
      byRequest.clear();
    },
  };
}

/** A host of the mirrored site (www.epochtimes.com, i.epochtimes.com, epochtimes.com …): never to be contacted by the reader. */
export function isOriginHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'epochtimes.com' || h.endsWith('.epochtimes.com');
}

/** Local schemes that make no network request. */
const LOCAL_SCHEME = /^(data|blob|about|chrome-error|javascript):/i;

/**
 * Requests that went anywhere but the mirror. A request to the origin's hosts is always a leak;
 * a third-party host is tolerated only when listed (embeds the article content itself names).
 */
export function leaks(requests: readonly RecordedRequest[], mirrorBase: string, thirdParty: readonly string[] = []): RecordedRequest[] {
  const mirror = new URL(mirrorBase).origin;
  return requests.filter((r) => {
    if (LOCAL_SCHEME.test(r.url)) return false;
    let u: URL;
    try {
      u = new URL(r.url);
    } catch {
      return true;
    }
    if (u.origin === mirror) return false;
    if (!isOriginHost(u.hostname) && thirdParty.includes(u.hostname.toLowerCase())) return false;
    return true;
  });
}

export function describeRequests(requests: readonly RecordedRequest[]): string[] {
  return requests.map((r) => `${r.resourceType} ${r.method} ${r.url}${r.frameUrl ? ` (frame ${r.frameUrl})` : ''}${r.failure ? ` [${r.failure}]` : ''}`);
}

/** Subresources of the kinds a reader sees (images, styles, scripts) that the mirror answered with an error. */
export function failedSubresources(requests: readonly RecordedRequest[], mirrorBase: string): RecordedRequest[] {
  const mirror = new URL(mirrorBase).origin;
  return requests.filter((r) => {
    if (!['image', 'stylesheet', 'script'].includes(r.resourceType)) return false;
    if (LOCAL_SCHEME.test(r.url) || new URL(r.url).origin !== mirror) return false;
    if (r.failure && r.failure !== 'net::ERR_ABORTED') return true;
    if (r.status === undefined) return false; // aborted before a response (e.g. a srcset candidate replaced by a lazy-load script)
    if (r.status >= 400) return true;
    return r.resourceType === 'image' && !/^image\//.test(r.contentType ?? '');
  });
}

// ---------------------------------------------------------------------------
// What the reader sees
// ---------------------------------------------------------------------------

/** Frames whose document came from the mirror (cross-origin third-party frames and error pages are left out). */
export function mirrorFrames(page: Page, mirrorBase: string): Frame[] {
  const mirror = new URL(mirrorBase).origin;
  return page.frames().filter((f) => {
    try {
      return new URL(f.url()).origin === mirror;
    } catch {
      return false;
    }
  });
}

/** Waits until every <img> has finished (loaded or failed), after lazy-loading scripts had their turn. */
export async function settleImages(page: Page, mirrorBase: string): Promise<void> {
  for (const frame of mirrorFrames(page, mirrorBase)) {
    await frame.evaluate(async () => {
      const pending = [...document.images].filter((img) => !img.complete);
      await Promise.race([
        Promise.all(
          pending.map(
            (img) =>
              new Promise((r) => {
                img.addEventListener('load', r, { once: true });
                img.addEventListener('error', r, { once: true });
              }),
          ),
        ),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
    });
  }
}

export interface ShownImage {
  frame: string;
  id: string;
  src: string;
  complete: boolean;
  naturalWidth: number;
}

/**
 * Every <img> that is rendered (has a layout box, not hidden) and has a source, in every mirror frame.
 * An <img> the page itself gave no src/srcset (a lazy placeholder no script on the page fills) has nothing to decode.
 */
export async function shownImages(page: Page, mirrorBase: string): Promise<ShownImage[]> {
  const out: ShownImage[] = [];
  for (const frame of mirrorFrames(page, mirrorBase)) {
    const imgs = await frame.evaluate(() =>
      [...document.images]
        .filter((img) => img.getClientRects().length > 0 && getComputedStyle(img).visibility !== 'hidden')
        .filter((img) => img.hasAttribute('src') || img.hasAttribute('srcset') || img.parentElement?.tagName === 'PICTURE')
        .map((img) => ({ id: img.id || img.className || img.alt, src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth })),
    );
    for (const img of imgs) out.push({ frame: frame.url(), ...img });
  }
  return out;
}

/**
 * Every resource URL the live DOM and CSSOM still name, after scripts ran, resolved: what the browser
 * fetched or may fetch later (srcset candidates for other screens, preconnect/dns-prefetch, which
 * make no request Playwright can see, unused @font-face sources, print styles, lazy attributes).
 */
export async function resourceUrls(page: Page, mirrorBase: string): Promise<{ frame: string; where: string; url: string }[]> {
  const out: { frame: string; where: string; url: string }[] = [];
  for (const frame of mirrorFrames(page, mirrorBase)) {
    const found = await frame.evaluate(() => {
      const res: { where: string; url: string }[] = [];
      const add = (where: string, raw: string | null | undefined, base = document.baseURI) => {
        if (!raw) return;
        try {
          res.push({ where, url: new URL(raw.trim(), base).href });
        } catch {
          res.push({ where, url: raw });
        }
      };
      // The HTML spec's srcset parsing, simplified: a URL is a run of non-space (commas inside it included),
      // trailing commas end it; descriptors run to the next comma outside parentheses.
      const srcset = (where: string, value: string | null) => {
        if (!value) return;
        let i = 0;
        while (i < value.length) {
          while (i < value.length && /[\s,]/.test(value[i]!)) i++;
          const start = i;
          while (i < value.length && !/\s/.test(value[i]!)) i++;
          let url = value.slice(start, i);
          const trailing = /,+$/.exec(url);
          if (trailing) url = url.slice(0, -trailing[0].length);
          else {
            let depth = 0;
            while (i < value.length && (depth > 0 || value[i] !== ',')) {
              if (value[i] === '(') depth++;
              else if (value[i] === ')') depth--;
              i++;
            }
          }
          if (url) add(where, url);
        }
      };
      const cssUrls = (where: string, text: string, base: string) => {
        for (const m of text.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/g)) add(where, m[1] ?? m[2] ?? m[3], base);
      };
      const RESOURCE_REL = /(^|\s)(stylesheet|preload|prefetch|preconnect|dns-prefetch|modulepreload|icon|apple-touch-icon|manifest|prerender)(\s|$)/i;
      for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        const id = `${tag}${el.id ? '#' + el.id : ''}`;
        for (const name of ['src', 'poster', 'data-src', 'data-original', 'data-lazy-src', 'background']) {
          if (el.hasAttribute(name) && !(name === 'src' && tag === 'iframe' && !el.getAttribute('src'))) add(`${id}[${name}]`, el.getAttribute(name));
        }
        for (const name of ['srcset', 'imagesrcset', 'data-srcset', 'data-lazy-srcset']) srcset(`${id}[${name}]`, el.getAttribute(name));
        if (tag === 'object') add(`${id}[data]`, el.getAttribute('data'));
        if (tag === 'link' && RESOURCE_REL.test(el.getAttribute('rel') ?? '')) add(`${id}[href]`, el.getAttribute('href'));
        if (tag === 'image' || tag === 'use' || tag === 'feimage') {
          add(`${id}[href]`, el.getAttribute('href'));
          add(`${id}[xlink:href]`, el.getAttributeNS('http://www.w3.org/1999/xlink', 'href'));
        }
        if (el.hasAttribute('style')) cssUrls(`${id}[style]`, el.getAttribute('style')!, document.baseURI);
        const bg = el.getAttribute('data-bg');
        if (bg) /^\s*url\(/i.test(bg) ? cssUrls(`${id}[data-bg]`, bg, document.baseURI) : add(`${id}[data-bg]`, bg);
        const cs = getComputedStyle(el);
        for (const prop of ['background-image', 'list-style-image', 'border-image-source', 'mask-image', 'content', 'cursor'] as const) {
          const v = cs.getPropertyValue(prop);
          if (v && v.includes('url(')) cssUrls(`${id} computed ${prop}`, v, document.baseURI);
        }
      }
      const sheets = (list: Iterable<CSSStyleSheet>, depth: number) => {
        for (const sheet of list) {
          const base = sheet.href ?? document.baseURI;
          let rules: CSSRuleList;
          try {
            rules = sheet.cssRules;
          } catch {
            res.push({ where: `unreadable stylesheet`, url: sheet.href ?? '' });
            continue;
          }
          const walk = (rs: CSSRuleList) => {
            for (const rule of rs) {
              if (rule instanceof CSSImportRule) {
                add(`@import in ${base}`, rule.href, base);
                if (rule.styleSheet && depth < 5) sheets([rule.styleSheet], depth + 1);
              } else if ('cssRules' in rule && (rule as CSSGroupingRule).cssRules) {
                walk((rule as CSSGroupingRule).cssRules);
              } else {
                cssUrls(`css rule in ${base}`, rule.cssText, base);
              }
            }
          };
          walk(rules);
        }
      };
      sheets(document.styleSheets, 0);
      return res;
    });
    for (const f of found) out.push({ frame: frame.url(), ...f });
  }
  return out;
}

/** Resource URLs that point at the origin's hosts. */
export async function originResourceUrls(page: Page, mirrorBase: string): Promise<string[]> {
  return (await resourceUrls(page, mirrorBase))
    .filter((r) => {
      try {
        return isOriginHost(new URL(r.url).hostname);
      } catch {
        return /epochtimes\.com/i.test(r.url);
      }
    })
    .map((r) => `${r.where}: ${r.url} (frame ${r.frame})`);
}

export interface Chrome {
  /** Element children of <body> are: nav.mirror-nav first, footer.mirror-footer last, no other text around them. */
  firstChild: string;
  lastChild: string;
  textBeforeNav: string;
  textAfterFooter: string;
  navCount: number;
  footerCount: number;
  navVisible: boolean;
  footerText: string;
  footerHref: string | null;
}

export async function mirrorChrome(frame: Page | Frame): Promise<Chrome> {
  return frame.evaluate(() => {
    const body = document.body;
    const describe = (el: Element | null) => (el ? `${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(/\s+/).join('.') : ''}` : '(none)');
    const first = body.firstElementChild;
    const last = body.lastElementChild;
    let textBeforeNav = '';
    for (let n = body.firstChild; n && n !== first; n = n.nextSibling) textBeforeNav += n.textContent ?? '';
    let textAfterFooter = '';
    for (let n = body.lastChild; n && n !== last; n = n.previousSibling) textAfterFooter += n.textContent ?? '';
    const nav = document.querySelector('nav.mirror-nav');
    const rect = nav?.getBoundingClientRect();
    const footer = document.querySelector('footer.mirror-footer');
    return {
      firstChild: describe(first),
      lastChild: describe(last),
      textBeforeNav: textBeforeNav.trim(),
      textAfterFooter: textAfterFooter.trim(),
      navCount: document.querySelectorAll('nav.mirror-nav').length,
      footerCount: document.querySelectorAll('footer.mirror-footer').length,
      navVisible: !!rect && rect.height > 0 && rect.width > 0,
      footerText: footer?.textContent ?? '',
      footerHref: footer?.querySelector('a')?.getAttribute('href') ?? null,
    };
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 30_000 });
  return file;
}

/** Lets lazy-loading code that waits for scrolling run: scrolls through the page and back. */
export async function scrollThrough(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const step = Math.max(200, window.innerHeight);
    for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
      window.scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    window.scrollTo(0, 0);
  });
}
