import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNtdtvOrigin, type NtdtvOrigin } from '../../demo/ntdtv-origin.ts';
import { startDemoOrigin, type DemoOrigin } from '../../demo/origin.ts';
import type { MirrorConfigInput } from '../../src/config/types.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';

/**
 * Two sites in one process, with config/examples/two-sites.json: Epoch Times (demo/origin.ts) on
 * *.et-mirror.example and NTDTV (demo/ntdtv-origin.ts) on *.ntd-mirror.example. Sites are chosen by
 * Host; their cache entries and their metrics are kept apart; /_mirror/health reports each site.
 * Node-only (it starts the Node server itself).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function get(base: string, pathAndQuery: string, host: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = http.request({ host: url.hostname, port: url.port, path: pathAndQuery, headers: { host, connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line of the Prometheus text, or 0 when absent. */
function sample(metrics: string, line: string): number {
  const found = metrics.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describe('two sites in one process (config/examples/two-sites.json)', () => {
  let epoch: DemoOrigin;
  let ntdtv: NtdtvOrigin;
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    [epoch, ntdtv] = await Promise.all([startDemoOrigin(0), startNtdtvOrigin(0)]);
    const input = JSON.parse(readFileSync(path.join(ROOT, 'config/examples/two-sites.json'), 'utf8')) as MirrorConfigInput;
    for (const site of input.sites) for (const o of site.origins) o.upstream = site.name === 'epochtimes' ? epoch.url : ntdtv.url;
    // Epoch Times' image host is unreachable here, for the health check below.
    input.sites[0]!.origins[1]!.upstream = 'http://127.0.0.1:1';
    input.server = { accessLog: 'off' };
    const result = validateConfig(input);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    server = await startNodeServer({ config: result.config, port: 0, host: '127.0.0.1', accessLog: false });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all([epoch?.close(), ntdtv?.close()]);
  });

  it('chooses the site by Host: exact names, *.domain, port and case ignored; anything else 421', async () => {
    const et = await get(base, '/gb/', 'et-mirror.example');
    expect(et.status).toBe(200);
    expect(et.text).toContain('青河新闻网');
    expect(et.text).toMatch(/<nav class="mirror-nav"[^>]*><a href="\/gb\/"[^>]*>首页<\/a>/);
    const ntd = await get(base, '/gb/china.html', 'WWW.NTD-Mirror.example:8443');
    expect(ntd.status).toBe(200);
    expect(ntd.text).toMatch(/<nav class="mirror-nav"[^>]*><a href="\/gb\/"[^>]*>新唐人首页<\/a>/);
    expect(ntd.text).toContain('新唐人原文（需翻墙）：<a href="https://www.ntdtv.com/gb/china.html"');
    expect((await get(base, '/gb/china.html', 'ntd.localhost')).status).toBe(200);
    const before = ntdtv.requests.length;
    for (const host of ['mirror.example', 'et-mirror.example.attacker.test', 'xet-mirror.example', '127.0.0.1']) {
      const r = await get(base, '/gb/', host);
      expect(r.status, host).toBe(421);
    }
    expect(ntdtv.requests.length).toBe(before); // no origin was asked
  });

  it('keeps each site’s cache apart, even at the same path', async () => {
    // Both sites have /gb/ and /_i/…: what is cached for one is never served for the other.
    const et1 = await get(base, '/gb/nsc412.htm', 'www.et-mirror.example');
    expect(et1.headers['x-cache']).toBe('MISS');
    const et2 = await get(base, '/gb/nsc412.htm', 'www.et-mirror.example');
    expect(et2.headers['x-cache']).toBe('HIT');
    const ntd1 = await get(base, '/gb/nsc412.htm', 'www.ntd-mirror.example');
    expect(ntd1.headers['x-cache']).toBe('MISS');
    expect(ntd1.status).toBe(404); // NTDTV has no such page…
    expect(ntd1.text).not.toContain('青河'); // …and Epoch Times' copy is not served for it
    const css1 = await get(base, '/assets/ntd.css', 'www.ntd-mirror.example');
    expect(css1.headers['x-cache']).toBe('MISS');
    // The same site on another of its hosts shares the entry (no mirror host in this body).
    const css2 = await get(base, '/assets/ntd.css', 'ntd.localhost');
    expect(css2.headers['x-cache']).toBe('HIT');
    expect(css2.text).toBe(css1.text);
    const etCss = await get(base, '/assets/ntd.css', 'et-mirror.example');
    expect(etCss.headers['x-cache']).toBe('MISS');
    expect(etCss.status).toBe(404);
  });

  it('counts metrics per site', async () => {
    const before = await get(base, '/_mirror/metrics', 'anything.example');
    expect(before.status).toBe(200);
    const m0 = before.text;
    await get(base, '/gb/2021/03/02/a103012345.html', 'ntd-mirror.example');
    await get(base, '/gb/2021/03/02/a103012345.html', 'ntd-mirror.example');
    await get(base, '/gb/', 'ntd-mirror.example'); // the home page has a YouTube iframe: a leak for ntdtv
    await get(base, '/gb/21/3/2/n12784933.htm', 'et-mirror.example');
    // The access log/metrics line is written as each body finishes: give the last one a moment.
    let m1 = '';
    for (let i = 0; i < 50; i++) {
      m1 = (await get(base, '/_mirror/metrics', 'anything.example')).text;
      if (sample(m1, 'edgemirror_requests_total{site="epochtimes",status="200",cache="MISS"}') > sample(m0, 'edgemirror_requests_total{site="epochtimes",status="200",cache="MISS"}')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const delta = (line: string) => sample(m1, line) - sample(m0, line);
    expect(delta('edgemirror_requests_total{site="ntdtv",status="200",cache="MISS"}')).toBeGreaterThanOrEqual(2);
    expect(delta('edgemirror_requests_total{site="ntdtv",status="200",cache="HIT"}')).toBe(1);
    expect(delta('edgemirror_requests_total{site="epochtimes",status="200",cache="MISS"}')).toBe(1);
    expect(delta('edgemirror_requests_total{site="epochtimes",status="200",cache="HIT"}')).toBe(0);
    expect(delta('edgemirror_origin_duration_seconds_count{site="ntdtv"}')).toBeGreaterThanOrEqual(2);
    expect(delta('edgemirror_origin_duration_seconds_count{site="epochtimes"}')).toBe(1);
    expect(sample(m1, 'edgemirror_leaked_urls_total{site="ntdtv",host="www.youtube.com"}')).toBeGreaterThanOrEqual(1);
    expect(m1).not.toContain('edgemirror_leaked_urls_total{site="epochtimes",host="www.youtube.com"}');
    expect(sample(m1, 'edgemirror_out_bytes_total{site="ntdtv"}')).toBeGreaterThan(0);
    // The status page has a section per site.
    const status = await get(base, '/_mirror/', 'anything.example');
    expect(status.status).toBe(200);
    expect(status.text).toMatch(/<h2>epochtimes <small/);
    expect(status.text).toMatch(/<h2>ntdtv <small/);
    expect(status.text).toContain('<td>www.youtube.com</td>');
  });

  it('reports health per site over HTTP: one site degraded, the other ok', async () => {
    const ok = await get(base, '/_mirror/health', 'anything.example');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({ status: 'ok', sites: { epochtimes: { status: 'ok' }, ntdtv: { status: 'ok' } } });
    expect(ok.headers['cache-control']).toBe('no-store');
    // Epoch Times' image host cannot be reached: 502, and that site turns degraded.
    const broken = await get(base, '/_i/assets/logo.png', 'et-mirror.example');
    expect(broken.status).toBe(502);
    const degraded = await get(base, '/_mirror/health', 'anything.example');
    expect(degraded.status).toBe(503);
    const body = JSON.parse(degraded.text);
    expect(body.status).toBe('degraded');
    expect(body.sites.epochtimes.status).toBe('degraded');
    expect(body.sites.epochtimes.lastOriginError.url).toBe('https://i.epochtimes.com/assets/logo.png');
    expect(body.sites.ntdtv).toEqual({ status: 'ok', lastOriginError: null });
    // NTDTV is unaffected.
    expect((await get(base, '/_i/assets/uploads/2021/03/a103012345-320x180.jpg', 'ntd-mirror.example')).status).toBe(200);
  });
});
