/**
 * The run-time URL zoo (tests/helpers/zoo.ts) in Chromium behind the simulated firewall, every case
 * with the mirror's client shim off (CSP report-only, as by default), on, strict (enforced CSP + shim),
 * and strict without the shim. Recorded per case: does its target load through the mirror, which
 * requests left the mirror (by host), page errors, and the CSP reports the mirror counted.
 *   shim on: no claimed case leaks or throws, and every claimed case loads;
 *   strict (with the shim): no request leaves the mirror in any case; strict without the shim: none
 *   but top-level navigations, which no CSP directive governs;
 *   off: every case escapes (the zoo is not vacuous).
 * JavaScript off: pages with the shim on make exactly the requests they make without it; with it on,
 * the 60 articles of the 2022 fixture feed show no new page error and no new request outside the mirror.
 * Writes the results table to test-output/zoo-results-<target>.md (copied into docs/leaks.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfigInput } from '../../src/config/types.ts';
import { startSetup, type Setup } from '../helpers/mirror.ts';
import { ARTICLE_PATH, ARTICLE_URL, CHANNEL_PATH, FEED_NSC412_FILE, FIXTURE_ARTICLE_PATH, GBK_META_PATH, HOME_PATH } from '../helpers/origin.ts';
import { fixtureArticles } from '../helpers/fixture-pages.ts';
import { ZOO_CASES, zooPagePath, type ZooCase } from '../helpers/zoo.ts';
import { CHROMIUM, LAUNCH_ARGS, newContext, recordRequests, TARGET, type RecordedRequest } from './harness.ts';

type Mode = 'off' | 'on' | 'strict' | 'strict, shim off';
const MODES: [Mode, Partial<SiteConfigInput>][] = [
  ['off', {}],
  ['on', { leaks: { shim: true } }],
  ['strict', { leaks: { csp: 'strict', shim: true } }],
  ['strict, shim off', { leaks: { csp: 'strict' } }],
];

interface Outcome {
  loaded: boolean;
  leaks: Record<string, number>;
  blocked: number;
  errors: string[];
  reports: number;
}
const results = new Map<string, Map<Mode, Outcome>>();

let browser: Browser;
beforeAll(async () => {
  // Reports are delivered at once instead of after a minute.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...LAUNCH_ARGS, '--short-reporting-delay'], timeout: 30_000 });
});
afterAll(async () => {
  await browser?.close();
  if (results.size === 0) return;
  const modes = MODES.map(([m]) => m);
  const cell = (o: Outcome | undefined) => {
    if (!o) return '–';
    const leaked = Object.entries(o.leaks).map(([h, n]) => `${h}×${n}`).join(', ');
    return [o.loaded ? 'loads' : 'fails', leaked ? `**leaks** ${leaked}` : 'no leak', o.blocked ? `${o.blocked} blocked` : '', o.errors.length ? `${o.errors.length} error` : '', o.reports ? `${o.reports} report` : '']
      .filter(Boolean)
      .join('; ');
  };
  const lines = [`| case | ${modes.join(' | ')} |`, `| --- | ${modes.map(() => '---').join(' | ')} |`];
  for (const c of ZOO_CASES) lines.push(`| ${c.api}${c.claimed ? '' : ' (not claimed)'}${c.navigation ? ' (navigation)' : ''} | ${modes.map((m) => cell(results.get(c.id)?.get(m))).join(' | ')} |`);
  const dir = path.resolve(import.meta.dirname, '../../test-output');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `zoo-results-${TARGET}.md`), lines.join('\n') + '\n');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** edgemirror_leaked_urls_total per host, from the metrics endpoint. */
async function leakCounters(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(base + '/_mirror/metrics')).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^edgemirror_leaked_urls_total\{site="[^"]*",host="([^"]*)"\} (\d+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

function outside(requests: readonly RecordedRequest[], base: string): RecordedRequest[] {
  const mirror = new URL(base).origin;
  return requests.filter((r) => !/^(data|blob|about|chrome-error|javascript):/i.test(r.url) && new URL(r.url).origin !== mirror);
}

async function runCase(setup: Setup, c: ZooCase): Promise<Outcome> {
  const context: BrowserContext = await newContext(browser);
  const log = recordRequests(context);
  const errors: string[] = [];
  context.on('page', (p) => p.on('pageerror', (e) => errors.push(e.message)));
  const before = await leakCounters(setup.base);
  try {
    const page = await context.newPage();
    const targetUrl = setup.base + c.target;
    const loaded = async () => {
      if (c.target.startsWith('url:')) return page.url() === setup.base + c.target.slice(4);
      return log.requests.some((r) => r.url === targetUrl && r.status !== undefined && r.status < 400);
    };
    await page.goto(setup.base + zooPagePath(c), { waitUntil: 'load' });
    // Until the target loaded, or something left (and failed) and a moment passed, or 5 s.
    const started = Date.now();
    while (Date.now() - started < 5000) {
      if (await loaded().catch(() => false)) break;
      if (Date.now() - started > 1500 && outside(log.requests, setup.base).some((r) => r.failure)) break;
      await sleep(100);
    }
    await sleep(300);
    const ok = await loaded().catch(() => false);
    // CSP reports reach the mirror's leak counter shortly after the violation.
    let reports = 0;
    for (let i = 0; i < 15; i++) {
      const after = await leakCounters(setup.base);
      reports = [...after].reduce((n, [h, v]) => n + v - (before.get(h) ?? 0), 0);
      if (reports > 0 || outside(log.requests, setup.base).length === 0) break;
      await sleep(100);
    }
    const leaks: Record<string, number> = {};
    let blocked = 0;
    for (const r of outside(log.requests, setup.base)) {
      if (r.failure === 'net::ERR_BLOCKED_BY_CSP' || r.failure === 'csp') blocked++;
      else leaks[new URL(r.url).hostname] = (leaks[new URL(r.url).hostname] ?? 0) + 1;
    }
    return { loaded: ok, leaks, blocked, errors, reports };
  } finally {
    await context.close();
  }
}

describe.each(MODES)('zoo with the shim %s', (mode, overrides) => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup(overrides);
  });
  afterAll(() => setup?.close());

  it.each(ZOO_CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const o = await runCase(setup, c);
    if (!results.has(c.id)) results.set(c.id, new Map());
    results.get(c.id)!.set(mode, o);
    const detail = JSON.stringify(o);
    if (mode === 'off') {
      expect(o.loaded, detail).toBe(c.serverSide === true);
      if (c.serverSide) expect(o.leaks, detail).toEqual({});
    }
    if (mode === 'on' && c.claimed) {
      expect(o.leaks, detail).toEqual({});
      expect(o.errors, detail).toEqual([]);
      expect(o.loaded, detail).toBe(true);
    }
    if (mode === 'strict' || (mode === 'strict, shim off' && !c.navigation)) expect(o.leaks, detail).toEqual({});
    if (mode === 'strict' && c.claimed) expect(o.loaded, detail).toBe(true);
  });
});

describe('the shim changes nothing the reader gets without JavaScript, and adds no page errors', () => {
  let off: Setup;
  let on: Setup;
  beforeAll(async () => {
    [off, on] = await Promise.all([startSetup(), startSetup({ leaks: { shim: true } })]);
  });
  afterAll(async () => {
    await off?.close();
    await on?.close();
  });

  const PAGES = [HOME_PATH, ARTICLE_PATH, CHANNEL_PATH, GBK_META_PATH, FIXTURE_ARTICLE_PATH];

  async function visit(setup: Setup, p: string, javaScriptEnabled: boolean): Promise<{ requests: string[]; errors: string[] }> {
    const context = await newContext(browser, { javaScriptEnabled });
    const log = recordRequests(context);
    const errors: string[] = [];
    try {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(setup.base + p, { waitUntil: 'load' });
      await sleep(300);
      const base = new URL(setup.base).origin;
      return { requests: log.requests.map((r) => `${r.method} ${r.url.startsWith(base) ? r.url.slice(base.length) : r.url}`).sort(), errors };
    } finally {
      await context.close();
    }
  }

  it('adds no page error and no request outside the mirror on any article of the 2022 fixture feed', async () => {
    const articles = [...fixtureArticles([FEED_NSC412_FILE]).values()];
    expect(articles.length).toBe(60);
    const problems: string[] = [];
    for (const a of articles) {
      const [c, d] = [await visit(off, a.path, true), await visit(on, a.path, true)];
      for (const e of d.errors) if (!c.errors.includes(e)) problems.push(`${a.path}: new page error ${e}`);
      const outsideOn = d.requests.filter((r) => !/^[A-Z]+ \//.test(r));
      const outsideOff = c.requests.filter((r) => !/^[A-Z]+ \//.test(r));
      for (const r of outsideOn) if (!outsideOff.includes(r)) problems.push(`${a.path}: new request outside the mirror ${r}`);
    }
    expect(problems).toEqual([]);
  }, 600_000);

  it('leaves the links the server kept on the origin alone (footer, links.rules "keep")', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(on.base + ARTICLE_PATH, { waitUntil: 'load' });
      expect(await page.evaluate(() => typeof (window as unknown as { __edgemirror?: unknown }).__edgemirror)).toBe('object');
      const kept = await page.evaluate(() => [...document.querySelectorAll('a[href^="https://www.epochtimes.com/"]')].map((a) => a.getAttribute('href')));
      expect(kept).toContain(ARTICLE_URL); // the footer's original link
      // A click the page cancels: the shim's listeners run, the link is not followed.
      await page.evaluate(() => document.addEventListener('click', (e) => e.preventDefault()));
      await page.click('footer.mirror-footer a');
      expect(await page.getAttribute('footer.mirror-footer a', 'href')).toBe(ARTICLE_URL);
    } finally {
      await context.close();
    }
  });

  it.each(PAGES)('%s: same requests with JavaScript off; no new page errors with it on', async (p) => {
    const [a, b] = [await visit(off, p, false), await visit(on, p, false)];
    expect(b.requests).toEqual(a.requests);
    expect(a.requests.length).toBeGreaterThan(0);
    const [c, d] = [await visit(off, p, true), await visit(on, p, true)];
    expect(d.errors).toEqual(c.errors);
    expect(d.requests.some((r) => r.includes('/_mirror/shim.'))).toBe(true);
  });
});
