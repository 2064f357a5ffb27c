/**
 * The client shim on the real pages of ../shared/fixtures/real-pages (news sites saved by third
 * parties), each behind a mirror configured with its manifest origins, in Chromium behind the
 * simulated firewall: with the shim on, no page error that the page does not also throw with it off,
 * and no more requests to the site's own origin hosts than without it. The counts per page are
 * written to test-output/shim-real-pages.md (the evidence behind the shim's default, docs/leaks.md).
 * Node only: one mirror per site and setting (the Worker runs the zoo).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfigInput } from '../../src/config/types.ts';
import { startProxy } from '../helpers/mirror.ts';
import { launchBrowser, newContext, recordRequests, TARGET } from './harness.ts';

const DIR = path.resolve(import.meta.dirname, '../../../shared/fixtures/real-pages');
interface ManifestPage {
  file: string;
  url: string;
  content_type: string;
  site: string;
  wrapper: boolean;
}
const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as {
  origins: Record<string, { url: string; mount: string; aliases?: string[] }[]>;
  pages: ManifestPage[];
};

function pageBytes(p: ManifestPage): Buffer {
  let bytes = fs.readFileSync(path.join(DIR, p.file));
  if (p.wrapper) {
    // The dataset's first line <text id=…> and last </text>: bytes, since the page may not be UTF-8.
    const nl = bytes.indexOf(10);
    bytes = bytes.subarray(nl + 1);
    const end = bytes.lastIndexOf(Buffer.from('</text>'));
    if (end >= 0) bytes = bytes.subarray(0, end);
  }
  return bytes;
}

let origin: http.Server;
let upstream = '';
let browser: Browser;
const rows: string[] = [];

beforeAll(async () => {
  origin = http.createServer((req, res) => {
    const host = String(req.headers.host ?? '').toLowerCase();
    const page = manifest.pages.find((p) => {
      const u = new URL(p.url);
      return u.host === host && u.pathname + u.search === req.url;
    });
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found\n');
    }
    res.writeHead(200, { 'content-type': page.content_type });
    res.end(pageBytes(page));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  origin?.closeAllConnections();
  origin?.close();
  if (rows.length) {
    const out = path.resolve(import.meta.dirname, '../../test-output');
    fs.mkdirSync(out, { recursive: true });
    const head = '| page | requests to its origin hosts, shim off → on | other hosts, off → on | page errors, off → on |\n| --- | --- | --- | --- |\n';
    fs.writeFileSync(path.join(out, 'shim-real-pages.md'), head + rows.join('\n') + '\n');
  }
});

function siteConfig(p: ManifestPage, shim: boolean): SiteConfigInput {
  return {
    name: p.site,
    hosts: ['*'],
    origins: manifest.origins[p.site]!.map((o) => ({ url: o.url, mount: o.mount, aliases: o.aliases ?? [], upstream })),
    leaks: { shim },
  };
}

async function visit(p: ManifestPage, shim: boolean, originHosts: Set<string>) {
  const proxy = await startProxy({ server: { accessLog: 'off' }, sites: [siteConfig(p, shim)] });
  const context = await newContext(browser);
  const log = recordRequests(context);
  const errors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message.split('\n')[0]!));
    const u = new URL(p.url);
    // Some pages never fire load behind the firewall (a request left hanging): the DOM and two seconds of scripts suffice.
    await page.goto(proxy.url + u.pathname + u.search, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    await new Promise((r) => setTimeout(r, 2000));
    const mirror = new URL(proxy.url).origin;
    let own = 0;
    let other = 0;
    for (const r of log.requests) {
      if (/^(data|blob|about|chrome-error|javascript):/i.test(r.url) || new URL(r.url).origin === mirror) continue;
      if (originHosts.has(new URL(r.url).hostname)) own++;
      else other++;
    }
    return { own, other, errors };
  } finally {
    await context.close();
    await proxy.close();
  }
}

describe.skipIf(TARGET === 'worker')('the client shim on real pages', () => {
  it.each(manifest.pages.map((p) => [p.file, p] as const))('%s', async (_file, p) => {
    const originHosts = new Set(manifest.origins[p.site]!.flatMap((o) => [o.url, ...(o.aliases ?? [])].map((x) => new URL(x).hostname)));
    const off = await visit(p, false, originHosts);
    const on = await visit(p, true, originHosts);
    rows.push(`| ${p.file} | ${off.own} → ${on.own} | ${off.other} → ${on.other} | ${off.errors.length} → ${on.errors.length} |`);
    expect(on.errors.filter((e) => !off.errors.includes(e)), `new page errors (off: ${JSON.stringify(off.errors)})`).toEqual([]);
    expect(on.own).toBeLessThanOrEqual(off.own);
  });
});
