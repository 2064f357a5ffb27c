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
    expect(m).toMatch(/^edgemirror_cache_hit_ratio\{site="epochtimes"\} 0\.5000$/m);
    expect(m).toMatch(/^edgemirror_origin_duration_seconds_count\{site="epochtimes"\} 1$/m);
    expect(m).toMatch(/^edgemirror_origin_duration_seconds_bucket\{site="epochtimes",le="\+Inf"\} 1$/m);
    expect(m).toMatch(/^edgemirror_cache_entries [1-9]/m);
    expect(m).toMatch(/^edgemirror_bytes_out_total\{site="epochtimes"\} [1-9]/m);
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
    expect(res.text).toContain('images.other-cdn.example');
    expect(res.text).not.toMatch(/<script/i);
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

describe('access log', () => {
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
      await rawRequest(proxy.url, '/gb/x.htm?q=1');
      await new Promise((r) => setTimeout(r, 50));
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).toMatchObject({ site: 'epochtimes', method: 'GET', path: '/gb/x.htm?q=1', status: 200, cache: 'MISS', originStatus: 200 });
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
    log({ time: '2026-11-26T06:00:00.000Z', site: 'epochtimes', method: 'GET', path: '/gb/', status: 200, cache: 'HIT', originStatus: null, originMs: null, bytes: 1234, ms: 3 });
    expect(text).toBe('06:00:00.000 200 GET /gb/ HIT 1234 B 3 ms [epochtimes]\n');
  });
});
