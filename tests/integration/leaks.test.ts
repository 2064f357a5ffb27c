/**
 * leaks.*: the Content-Security-Policy sent with pages (report-only by default, enforced in strict
 * mode, allow-list included, also on cache hits), the /_mirror/csp-report endpoint (both report
 * formats, only the blocked host counted, bounded, never the cache), the shim file, and the shim and
 * embed placeholders in a real page. Real origin, real mirror (Node, or the Worker under test:worker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIM_PATH } from '../../src/client/shim-file.ts';
import { SHIM_JS } from '../../src/client/shim-asset.ts';
import { Observer } from '../../src/observe/observer.ts';
import { CspReportEndpoint } from '../../src/proxy/csp-report.ts';
import { rawRequest, startSetup, type Setup } from '../helpers/mirror.ts';
import { ARTICLE_PATH, STYLE_CSS_PATH } from '../helpers/origin.ts';

const POLICY_BASE = "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:";

describe('leaks: defaults (CSP report-only, no shim, embeds kept)', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup();
  });
  afterAll(() => setup?.close());

  const report = (body: string, type = 'application/csp-report', headers: Record<string, string> = {}) =>
    rawRequest(setup.base, '/_mirror/csp-report', { method: 'POST', body, headers: { 'content-type': type, ...headers } });

  it('sends Content-Security-Policy-Report-Only with report-uri on pages, also from the cache, and not on CSS', async () => {
    for (let i = 0; i < 2; i++) {
      const page = await rawRequest(setup.base, ARTICLE_PATH);
      expect(page.status).toBe(200);
      const policy = String(page.headers['content-security-policy-report-only']);
      expect(policy).toContain(POLICY_BASE);
      expect(policy).toContain('report-uri /_mirror/csp-report');
      expect(policy).not.toContain('report-to'); // see src/rewrite/csp.ts
      expect(page.headers['content-security-policy']).toBeUndefined();
      expect(page.text).not.toContain('/_mirror/shim.');
      expect(page.text).toContain('src="//www.youtube.com/embed/');
    }
    const css = await rawRequest(setup.base, STYLE_CSS_PATH);
    expect(css.headers['content-security-policy-report-only']).toBeUndefined();
  });

  it('serves the shim as an immutable file named by its hash', async () => {
    const res = await rawRequest(setup.base, SHIM_PATH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.text).toBe(SHIM_JS);
    expect((await rawRequest(setup.base, '/_mirror/shim.000000000000.js')).status).not.toBe(200);
  });

  it('counts the blocked host of both report formats (no path, no query), on metrics and the status page; never the cache', async () => {
    const originRequests = setup.origin.requests.length;
    const a = await report(
      JSON.stringify({ 'csp-report': { 'document-uri': 'http://127.0.0.1/gb/x.htm', 'blocked-uri': 'https://www.epochtimes.com/gb/secret-path.htm?q=private', 'violated-directive': 'img-src' } }),
    );
    expect(a.status).toBe(204);
    expect(a.headers['x-cache']).toBeUndefined();
    const b = await report(
      JSON.stringify([
        { type: 'csp-violation', url: 'http://127.0.0.1/gb/x.htm', body: { blockedURL: 'https://tracker.example/pixel?id=reader-42', effectiveDirective: 'img-src' } },
        { type: 'csp-violation', body: { blockedURL: 'inline' } },
        { type: 'deprecation', body: { blockedURL: 'https://not-a-csp-report.example/' } },
      ]),
      'application/reports+json',
    );
    expect(b.status).toBe(204);
    expect(setup.origin.requests.length).toBe(originRequests);

    const metrics = (await rawRequest(setup.base, '/_mirror/metrics')).text;
    expect(metrics).toMatch(/edgemirror_leaked_urls_total\{site="epochtimes",host="www\.epochtimes\.com"\} \d+/);
    expect(metrics).toMatch(/edgemirror_leaked_urls_total\{site="epochtimes",host="tracker\.example"\} 1/);
    expect(metrics).not.toContain('not-a-csp-report');
    expect(metrics).not.toMatch(/secret-path|private|pixel|reader-42/);
    const status = (await rawRequest(setup.base, '/_mirror/')).text;
    expect(status).toContain('tracker.example');
    expect(status).not.toContain('reader-42');
  });

  it('answers hostile or wrong requests with a clear 4xx', async () => {
    expect((await rawRequest(setup.base, '/_mirror/csp-report')).status).toBe(405);
    expect((await report('{}', 'text/plain')).status).toBe(415);
    expect((await report('{not json')).status).toBe(400);
    expect((await report(JSON.stringify({ 'csp-report': { 'blocked-uri': 'javascript:alert(1)' } }))).status).toBe(204);
    // Last: a body refused unread may cost its connection.
    expect((await report('x'.repeat(70 * 1024))).status).toBe(413);
  });
});

describe('leaks: strict, shim on, embeds as placeholders', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await startSetup({ leaks: { csp: 'strict', allow: ['*.allowed.example', 'fonts.example.org'], shim: true, embeds: 'placeholder' } });
  });
  afterAll(() => setup?.close());

  it('enforces the policy with the allow-list, puts the shim first in <head> and a placeholder for the YouTube player', async () => {
    const page = await rawRequest(setup.base, ARTICLE_PATH);
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'self' *.allowed.example fonts.example.org 'unsafe-inline'");
    expect(String(page.headers['content-security-policy'])).toContain("form-action 'self' *.allowed.example fonts.example.org");
    expect(page.headers['content-security-policy-report-only']).toBeUndefined();
    expect(page.text).toContain(`<head><script src="${SHIM_PATH}" data-map="`);
    expect(page.text).toContain('视频：www.youtube.com（需翻墙）');
    expect(page.text).not.toMatch(/<iframe[^>]*youtube/);
  });
});

describe('csp-report rate limit', () => {
  it('refuses reports beyond the token bucket with 429, and takes them again as it refills', async () => {
    let now = 0;
    const observer = new Observer(['s']);
    const endpoint = new CspReportEndpoint(observer, { maxBodyBytes: 1024, maxReportsPerBody: 10, perSecond: 2, burst: 3 }, () => now);
    const site = { config: { name: 's' } } as Parameters<CspReportEndpoint['handle']>[1];
    const post = () =>
      endpoint.handle(
        new Request('http://mirror.test/_mirror/csp-report', {
          method: 'POST',
          headers: { 'content-type': 'application/csp-report' },
          body: JSON.stringify({ 'csp-report': { 'blocked-uri': 'https://x.example/a' } }),
        }),
        site,
      );
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post()).status);
    expect(statuses).toEqual([204, 204, 204, 429, 429]);
    now += 1000;
    expect((await post()).status).toBe(204);
    expect(observer.topLeaks('s')).toEqual([['x.example', 4]]);
  });
});
