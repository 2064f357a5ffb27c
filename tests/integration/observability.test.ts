import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessLog } from '../../src/node/access-log.ts';
import type { LogLine } from '../../src/observe/observer.ts';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { rawRequest, resolve, testSiteConfig } from '../helpers/mirror.ts';

const TOKEN = 'observability-token-0123';

describe('observability endpoints', () => {
  let origin: http.Server;
  let originUrl = '';
  let failing = false;
  let proxy: RunningServer;

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      if (failing) {
        res.writeHead(503);
        return res.end('down');
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'max-age=60' });
      res.end(
        `<html><head><link rel="stylesheet" href="https://cdn.thirdparty.example/site.css"></head><body>` +
          `<img src="https://i.epochtimes.com/a.jpg"><img src="https://images.other-cdn.example/b.jpg"><img src="//images.other-cdn.example/c.jpg">` +
          `<a href="https://twitter.com/x">not a leak: a link</a></body></html>`,
      );
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    proxy = await startNodeServer({ config: resolve({ cache: { purgeToken: TOKEN }, sites: [testSiteConfig(originUrl)] }), port: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    origin.closeAllConnections();
    origin.close();
  });

  it('counts requests by site, status and cache state, and exposes Prometheus metrics behind the token', async () => {
    await rawRequest(proxy.url, '/gb/a.htm');
    await rawRequest(proxy.url, '/gb/a.htm');
    // A request is counted once its body has gone out, just after the reader has it.
    await new Promise((r) => setTimeout(r, 50));
    expect((await rawRequest(proxy.url, '/_mirror/metrics')).status).toBe(401);
    const res = await rawRequest(proxy.url, '/_mirror/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = res.text;
    expect(m).toMatch(/^edgemirror_requests_total\{site="epochtimes",status="200",cache="MISS"\} 1$/m);
    expect(m).toMatch(/^edgemirror_requests_total\{site="epochtimes",status="200",cache="HIT"\} 1$/m);
    // The hit ratio is what requests_total{cache} already says: not exported twice.
    expect(m).not.toContain('edgemirror_cache_hit_ratio');
    expect(m).toMatch(/^edgemirror_origin_duration_seconds_count\{site="epochtimes"\} 1$/m);
    expect(m).toMatch(/^edgemirror_origin_duration_seconds_bucket\{site="epochtimes",le="\+Inf"\} 1$/m);
    expect(m).toMatch(/^edgemirror_cache_entries [1-9]/m);
    // Unit before _total (Prometheus naming).
    expect(m).toMatch(/^edgemirror_out_bytes_total\{site="epochtimes"\} [1-9]/m);
    expect(m).toMatch(/^edgemirror_in_bytes_total\{site="epochtimes"\} [1-9]/m);
    expect(m).not.toMatch(/_bytes_(out|in)_total/);
    expect(m).toMatch(/^edgemirror_build_info\{version="\d+\.\d+\.\d+[^"]*",runtime="node v\d+[^"]*"\} 1$/m);
    expect(m).toMatch(/^edgemirror_open_connections \d+$/m);
    // The leak counter: resources left on unmirrored hosts, by host; links are not leaks.
    expect(m).toMatch(/^edgemirror_leaked_urls_total\{site="epochtimes",host="images\.other-cdn\.example"\} 2$/m);
    expect(m).toMatch(/^edgemirror_leaked_urls_total\{site="epochtimes",host="cdn\.thirdparty\.example"\} 1$/m);
    expect(m).not.toContain('twitter.com');
    const viaQuery = await rawRequest(proxy.url, `/_mirror/metrics?token=${TOKEN}`);
    expect(viaQuery.status).toBe(200);
  });

  it('serves a status page with per-site charts and the top leaked hosts', async () => {
    expect((await rawRequest(proxy.url, '/_mirror/')).status).toBe(401);
    const res = await rawRequest(proxy.url, `/_mirror/?token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h2>epochtimes');
    expect(res.text).toContain('<svg');
    // Charts with axes and values: 0 to the largest value, 60 minutes ago to now, latest and highest.
    expect(res.text.match(/>−60 min<\/text>/g)).toHaveLength(3);
    expect(res.text.match(/>now<\/text>/g)).toHaveLength(3);
    expect(res.text).toMatch(/<h3>Requests per minute<\/h3><svg[^>]*>.*<text[^>]*>([12])<\/text><text[^>]*>0<\/text>.*<\/svg><p class="values">this minute: [0-2] · highest: \1<\/p>/s); // 2 requests (1 + 1 across a minute's turn)
    // A small cache in the unit that shows it (not "0.0 MB").
    expect(res.text).toMatch(/Cache: 1 entries, \d+(\.\d)? (B|KB)\./);
    expect(res.text).not.toContain('0.0 MB');
    expect(res.text).toContain('images.other-cdn.example');
    expect(res.text).not.toMatch(/<script/i);
  });

  it('counts requests by host: configured names and patterns, everything else as "other"', async () => {
    const hosts = await startNodeServer({ config: resolve({ sites: [testSiteConfig(originUrl, { hosts: ['m1.example', '*.m2.example', '*'] })] }), port: 0 });
    try {
      await rawRequest(hosts.url, '/gb/h1.htm', { headers: { host: 'M1.example:443' } });
      await rawRequest(hosts.url, '/gb/h2.htm', { headers: { host: 'a.m2.example' } });
      await rawRequest(hosts.url, '/gb/h3.htm', { headers: { host: 'b.m2.example' } });
      for (let i = 0; i < 5; i++) await rawRequest(hosts.url, '/gb/h4.htm', { headers: { host: `random-${i}.example` } });
      await new Promise((r) => setTimeout(r, 50));
      const m = hosts.mirror.observer.metrics();
      expect(m).toMatch(/^edgemirror_host_requests_total\{host="m1\.example",code="2xx"\} 1$/m);
      expect(m).toMatch(/^edgemirror_host_requests_total\{host="\*\.m2\.example",code="2xx"\} 2$/m);
      expect(m).toMatch(/^edgemirror_host_requests_total\{host="other",code="2xx"\} 5$/m);
      expect(m).not.toContain('random-');
    } finally {
      await hosts.close();
    }
  });

  it('reports health: ok, then degraded with the last origin error', async () => {
    const ok = await rawRequest(proxy.url, '/_mirror/health');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).status).toBe('ok');
    failing = true;
    await rawRequest(proxy.url, '/gb/fresh-page.htm');
    failing = false;
    // With a token set, the details (upstream address, failed URL) are the token holder's only.
    const open = await rawRequest(proxy.url, '/_mirror/health');
    expect(open.status).toBe(503);
    expect(JSON.parse(open.text)).toEqual({ status: 'degraded' });
    const bad = await rawRequest(proxy.url, '/_mirror/health', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(503);
    const body = JSON.parse(bad.text);
    expect(body.status).toBe('degraded');
    expect(body.sites.epochtimes.lastOriginError.message).toBe('status 503');
    expect(body.sites.epochtimes.lastOriginError.url).toBe('https://www.epochtimes.com/gb/fresh-page.htm');
  });
});

describe('health before any traffic', () => {
  it('is unknown until the origin has been reached; the health endpoint probes it (HEAD /) rather than answer ok blindly', async () => {
    const seen: string[] = [];
    const origin = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const proxy = await startNodeServer({ config: resolve({ sites: [testSiteConfig(upstream)] }), port: 0 });
    try {
      expect(proxy.mirror.observer.health()).toMatchObject({ status: 'unknown', sites: { epochtimes: { status: 'unknown', lastOriginError: null } } });
      const res = await rawRequest(proxy.url, '/_mirror/health');
      expect(seen).toEqual(['HEAD /']);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ status: 'ok', sites: { epochtimes: { status: 'ok' } } });
      await rawRequest(proxy.url, '/_mirror/health');
      expect(seen).toHaveLength(1); // known now: no more probes
    } finally {
      await proxy.close();
      origin.close();
    }
  });

  it('an origin that cannot be reached: 503 degraded with the cause, never ok', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const proxy = await startNodeServer({ config: resolve({ sites: [testSiteConfig(`http://127.0.0.1:${port}`)] }), port: 0 });
    try {
      const res = await rawRequest(proxy.url, '/_mirror/health');
      expect(res.status).toBe(503);
      const body = JSON.parse(res.text);
      expect(body.status).toBe('degraded');
      expect(body.sites.epochtimes.lastOriginError.message).toContain('ECONNREFUSED');
    } finally {
      await proxy.close();
    }
  });
});

describe('access log', () => {
  async function logged(server: Parameters<typeof resolve>[0]['server'], requests: [string, Record<string, string>?][], originUrl?: string): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    const out = new PassThrough();
    out.on('data', (d: Buffer) => d.toString().trim().split('\n').forEach((l) => lines.push(JSON.parse(l))));
    const log = createAccessLog('json', out as unknown as NodeJS.WriteStream)!;
    const proxy = await startNodeServer({ config: resolve({ server, sites: [testSiteConfig(originUrl ?? 'http://127.0.0.1:9', { hosts: ['m.example'] })] }), port: 0, accessLog: false });
    (proxy.mirror.observer as unknown as { options: { log?: (l: LogLine) => void } }).options.log = log;
    try {
      for (const [target, headers] of requests) await rawRequest(proxy.url, target, { headers: { host: 'm.example', ...headers } });
      await new Promise((r) => setTimeout(r, 50));
      return lines;
    } finally {
      await proxy.close();
    }
  }

  it('names the cause of an origin failure in the line (error) and the host of every request, the refused one included', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const lines = await logged({}, [['/gb/a.htm'], ['/gb/b.htm', { host: 'blocked-old-domain.example' }]], `http://127.0.0.1:${port}`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'error', host: 'm.example', site: 'epochtimes', status: 502, originStatus: null });
    expect(lines[0]!.error).toBe(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(lines[1]).toMatchObject({ level: 'info', host: 'blocked-old-domain.example', site: null, status: 421 });
    expect(lines[1]).not.toHaveProperty('error');
  });

  it('redacts query values by default and never logs a token; logQuery "full" keeps searches but still not the token', async () => {
    const requests: [string][] = [['/gb/search.htm?q=%E5%9B%BE&page=2&flag'], ['/_mirror/metrics?token=observability-token-0123&x=1']];
    const redacted = await logged({}, requests);
    expect(redacted.map((l) => l.path)).toEqual(['/gb/search.htm?q=REDACTED&page=REDACTED&flag', '/_mirror/metrics?token=REDACTED&x=REDACTED']);
    const full = await logged({ logQuery: 'full' }, requests);
    expect(full.map((l) => l.path)).toEqual(['/gb/search.htm?q=%E5%9B%BE&page=2&flag', '/_mirror/metrics?token=REDACTED&x=1']);
    expect(JSON.stringify([...redacted, ...full])).not.toContain('observability-token-0123');
  });

  it('writes one JSON line per request with site, status, cache, origin status and time, bytes — and no reader IP by default', async () => {
    const lines: LogLine[] = [];
    const origin = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p>hello</p>');
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const out = new PassThrough();
    out.on('data', (d: Buffer) => d.toString().trim().split('\n').forEach((l) => lines.push(JSON.parse(l))));
    const log = createAccessLog('json', out as unknown as NodeJS.WriteStream)!;
    const proxy = await startNodeServer({ config: resolve({ server: { accessLog: 'json' }, sites: [testSiteConfig(upstream)] }), port: 0, accessLog: false });
    // Route the server's log lines into our stream.
    (proxy.mirror.observer as unknown as { options: { log?: (l: LogLine) => void } }).options.log = log;
    try {
      await rawRequest(proxy.url, '/gb/x.htm?q=1', { headers: { host: 'm.example' } });
      await new Promise((r) => setTimeout(r, 50));
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).toMatchObject({ level: 'info', host: 'm.example', site: 'epochtimes', method: 'GET', path: '/gb/x.htm?q=REDACTED', status: 200, cache: 'MISS', originStatus: 200 });
      expect(line).not.toHaveProperty('error');
      expect(line.bytes).toBeGreaterThan(10);
      expect(typeof line.originMs).toBe('number');
      expect(line.ip).toBeUndefined();
      expect(JSON.stringify(line)).not.toContain('127.0.0.1');
    } finally {
      await proxy.close();
      origin.close();
    }
  });

  it('records the reader IP only when server.logClientIp is on', async () => {
    const lines: LogLine[] = [];
    const origin = http.createServer((_req, res) => res.end('x'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const proxy = await startNodeServer({ config: resolve({ server: { logClientIp: true }, sites: [testSiteConfig(upstream)] }), port: 0, accessLog: false });
    (proxy.mirror.observer as unknown as { options: { log?: (l: LogLine) => void } }).options.log = (l) => lines.push(l);
    try {
      await rawRequest(proxy.url, '/x');
      await new Promise((r) => setTimeout(r, 50));
      expect(lines[0]?.ip).toMatch(/127\.0\.0\.1/);
    } finally {
      await proxy.close();
      origin.close();
    }
  });

  it('formats a readable line for terminals', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d));
    const log = createAccessLog('pretty', out as unknown as NodeJS.WriteStream)!;
    log({ time: '2026-11-26T06:00:00.000Z', host: 'm.example', site: 'epochtimes', method: 'GET', path: '/gb/', status: 200, cache: 'HIT', originStatus: null, originMs: null, bytes: 1234, ms: 3 });
    log({ time: '2026-11-26T06:00:01.000Z', host: 'm.example', site: 'epochtimes', method: 'GET', path: '/gb/x.htm', status: 502, cache: 'MISS', originStatus: null, originMs: null, bytes: 90, ms: 4, error: 'getaddrinfo ENOTFOUND www.epochtimes.com' });
    expect(text).toBe(
      '06:00:00.000 200 GET m.example/gb/ HIT 1234 B 3 ms [epochtimes]\n' + '06:00:01.000 502 GET m.example/gb/x.htm MISS 90 B 4 ms getaddrinfo ENOTFOUND www.epochtimes.com [epochtimes]\n',
    );
  });
});
