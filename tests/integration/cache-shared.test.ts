import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startProxy, testSiteConfig, type MirrorProxy } from '../helpers/mirror.ts';

/**
 * The cache's reader-visible behaviour on both runtimes (Node: in-memory LRU; Workers: the Cache API).
 * The Node-only details (coalescing, byte bounds, SWR timing) are in cache.test.ts.
 */
const TOKEN = 'shared-cache-token-0123';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries until a stored copy answers: stores finish just after the response (waitUntil). */
async function untilCached(base: string, path: string, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof rawRequest>>> {
  for (let i = 0; i < 40; i++) {
    const r = await rawRequest(base, path, { headers });
    if (r.headers['x-cache'] === 'HIT') return r;
    await sleep(50);
  }
  throw new Error(`${path} never became a cache HIT`);
}

describe('response cache (shared suite)', () => {
  let origin: http.Server;
  const hits = new Map<string, number>();
  let proxy: MirrorProxy;

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'max-age=600', etag: '"v1"' };
      if (path.includes('nostore')) headers['cache-control'] = 'no-store';
      res.writeHead(200, headers);
      res.end(`<html><head><meta property="og:url" content="https://www.epochtimes.com${path}"></head><body><p>${path}</p><a href="https://www.epochtimes.com/gb/x.htm">x</a></body></html>`);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    proxy = await startProxy({ cache: { purgeToken: TOKEN }, sites: [testSiteConfig(upstream)] });
  });
  afterAll(async () => {
    await proxy.close();
    origin.closeAllConnections();
    origin.close();
  });

  it('misses, then hits with Age, asking the origin once', async () => {
    const first = await rawRequest(proxy.url, '/gb/one.htm', { headers: { host: 'mirror-a.test' } });
    expect(first.headers['x-cache']).toBe('MISS');
    const hit = await untilCached(proxy.url, '/gb/one.htm', { host: 'mirror-a.test' });
    expect(hit.text).toBe(first.text);
    expect(hit.headers.age).toMatch(/^\d+$/);
    expect(hits.get('/gb/one.htm')).toBe(1);
  });

  it('keeps host-dependent bodies apart: a reader of mirror B never sees mirror A', async () => {
    await rawRequest(proxy.url, '/gb/two.htm', { headers: { host: 'mirror-a.test' } });
    await untilCached(proxy.url, '/gb/two.htm', { host: 'mirror-a.test' });
    const b = await rawRequest(proxy.url, '/gb/two.htm', { headers: { host: 'mirror-b.test' } });
    expect(b.text).toContain('http://mirror-b.test/gb/two.htm');
    expect(b.text).not.toContain('mirror-a.test');
  });

  it('does not store no-store responses', async () => {
    await rawRequest(proxy.url, '/gb/nostore.htm');
    await sleep(200);
    expect((await rawRequest(proxy.url, '/gb/nostore.htm')).headers['x-cache']).toBe('MISS');
    expect(hits.get('/gb/nostore.htm')).toBe(2);
  });

  it('answers If-None-Match from the cache with 304', async () => {
    await rawRequest(proxy.url, '/gb/three.htm');
    await untilCached(proxy.url, '/gb/three.htm');
    const r = await rawRequest(proxy.url, '/gb/three.htm', { headers: { 'if-none-match': '"v1"' } });
    expect(r.status).toBe(304);
    expect(r.body.length).toBe(0);
  });

  it('purges one URL with the bearer token', async () => {
    await rawRequest(proxy.url, '/gb/four.htm');
    await untilCached(proxy.url, '/gb/four.htm');
    const denied = await rawRequest(proxy.url, '/_mirror/purge', { method: 'POST', body: '{"url":"/gb/four.htm"}' });
    expect(denied.status).toBe(401);
    const purge = await rawRequest(proxy.url, '/_mirror/purge', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"url":"/gb/four.htm"}',
    });
    expect(purge.status).toBe(200);
    expect(JSON.parse(purge.text).purged).toBeGreaterThanOrEqual(1);
    expect((await rawRequest(proxy.url, '/gb/four.htm')).headers['x-cache']).toBe('MISS');
  });
});
