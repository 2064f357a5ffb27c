import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorConfigInput } from '../../src/config/types.ts';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { rawRequest, resolve, testSiteConfig } from '../helpers/mirror.ts';

/** A programmable origin: each path answers what the test says, and counts its requests. */
interface Behaviour {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | ((req: http.IncomingMessage) => string);
  delayMs?: number;
  fail?: 'reset';
}
class ProgrammableOrigin {
  readonly routes = new Map<string, Behaviour>();
  readonly hits = new Map<string, http.IncomingMessage[]>();
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const path = req.url!.split('?')[0]!;
      this.hits.set(path, [...(this.hits.get(path) ?? []), req]);
      const b = this.routes.get(path) ?? { status: 404, body: '<p>none</p>' };
      const answer = () => {
        if (b.fail === 'reset') return req.socket.destroy();
        const body = typeof b.body === 'function' ? b.body(req) : (b.body ?? '');
        res.writeHead(b.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...b.headers });
        res.end(b.status === 304 ? undefined : body);
      };
      if (b.delayMs) setTimeout(answer, b.delayMs);
      else answer();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  count(path: string): number {
    return this.hits.get(path)?.length ?? 0;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const page = (text: string) => `<!DOCTYPE html><html><head><title>${text}</title></head><body><p id="t">${text}</p><a href="https://www.epochtimes.com/gb/x.htm">x</a></body></html>`;

describe('cache of rewritten responses', () => {
  const origin = new ProgrammableOrigin();
  let proxy: RunningServer | null = null;
  let n = 0;
  /** A fresh path per test, so tests do not share cache entries. */
  const fresh = (name: string) => `/t${++n}-${name}`;

  async function start(cache: MirrorConfigInput['cache'] = {}): Promise<string> {
    await proxy?.close();
    proxy = await startNodeServer({ config: resolve({ cache: { purgeToken: 'secret-token-0123456789', ...cache }, sites: [testSiteConfig(origin.url)] }), port: 0 });
    return proxy.url;
  }
  const get = (base: string, path: string, headers: Record<string, string> = {}, method = 'GET') => rawRequest(base, path, { headers, method });

  beforeAll(() => origin.start());
  afterEach(async () => {
    await proxy?.close();
    proxy = null;
  });
  afterAll(() => origin.close());

  it('misses, then hits with Age; one origin request', async () => {
    const base = await start();
    const path = fresh('hit');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('hello') });
    const a = await get(base, path);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(a.text).toContain('href="/gb/x.htm"');
    await sleep(1100);
    const b = await get(base, path);
    expect(b.headers['x-cache']).toBe('HIT');
    expect(Number(b.headers.age)).toBeGreaterThanOrEqual(1);
    expect(b.text).toBe(a.text);
    expect(origin.count(path)).toBe(1);
  });

  it.each([
    ['no-store', { 'cache-control': 'no-store' }],
    ['private', { 'cache-control': 'private, max-age=60' }],
    ['set-cookie', { 'cache-control': 'max-age=60', 'set-cookie': 'a=1' }],
  ])('does not store %s responses', async (_name, headers) => {
    const base = await start();
    const path = fresh('nostore');
    origin.routes.set(path, { headers, body: page('x') });
    expect((await get(base, path)).headers['x-cache']).toBe('MISS');
    expect((await get(base, path)).headers['x-cache']).toBe('MISS');
    expect(origin.count(path)).toBe(2);
  });

  it('bypasses for requests with Cookie or Authorization unless the origin says public', async () => {
    const base = await start();
    const path = fresh('cookie');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('c') });
    expect((await get(base, path, { cookie: 'sid=1' })).headers['x-cache']).toBe('BYPASS');
    expect((await get(base, path, { authorization: 'Basic eDp5' })).headers['x-cache']).toBe('BYPASS');
    expect((await get(base, path)).headers['x-cache']).toBe('MISS');
    expect((await get(base, path)).headers['x-cache']).toBe('HIT');
    // A stored non-public copy is not handed to a request with credentials.
    expect((await get(base, path, { cookie: 'sid=1' })).headers['x-cache']).toBe('BYPASS');
    const pub = fresh('public');
    origin.routes.set(pub, { headers: { 'cache-control': 'public, max-age=60' }, body: page('p') });
    expect((await get(base, pub, { cookie: 'sid=1' })).headers['x-cache']).toBe('BYPASS');
    expect((await get(base, pub, { cookie: 'sid=2' })).headers['x-cache']).toBe('HIT');
  });

  it('keys on the request headers named by Vary', async () => {
    const base = await start();
    const path = fresh('vary');
    origin.routes.set(path, {
      headers: { 'cache-control': 'max-age=60', vary: 'Accept-Language, Accept-Encoding' },
      body: (req) => page(`lang=${req.headers['accept-language']}`),
    });
    const zh = await get(base, path, { 'accept-language': 'zh' });
    const en = await get(base, path, { 'accept-language': 'en' });
    expect(zh.text).toContain('lang=zh');
    expect(en.text).toContain('lang=en');
    expect(en.headers['x-cache']).toBe('MISS');
    const zh2 = await get(base, path, { 'accept-language': 'zh' });
    expect(zh2.headers['x-cache']).toBe('HIT');
    expect(zh2.text).toContain('lang=zh');
    // Accept-Encoding is not part of the key: bodies are stored decoded.
    expect((await get(base, path, { 'accept-language': 'en', 'accept-encoding': 'br' })).headers['x-cache']).toBe('HIT');
    expect(origin.count(path)).toBe(2);
  });

  it('answers conditional requests with 304 from the cache', async () => {
    const base = await start();
    const path = fresh('cond');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60', etag: '"v1"', 'last-modified': 'Tue, 02 Mar 2021 10:30:00 GMT' }, body: page('e') });
    await get(base, path);
    const inm = await get(base, path, { 'if-none-match': '"v1"' });
    expect(inm.status).toBe(304);
    expect(inm.body.length).toBe(0);
    expect(inm.headers.etag).toBe('"v1"');
    expect(inm.headers['x-cache']).toBe('HIT');
    const weak = await get(base, path, { 'if-none-match': 'W/"v0", W/"v1"' });
    expect(weak.status).toBe(304);
    const ims = await get(base, path, { 'if-modified-since': 'Wed, 03 Mar 2021 00:00:00 GMT' });
    expect(ims.status).toBe(304);
    const older = await get(base, path, { 'if-modified-since': 'Mon, 01 Mar 2021 00:00:00 GMT' });
    expect(older.status).toBe(200);
    const other = await get(base, path, { 'if-none-match': '"v2"' });
    expect(other.status).toBe(200);
    expect(origin.count(path)).toBe(1);
    // The origin never saw the reader's validators on the fill.
    expect(origin.hits.get(path)![0]!.headers['if-none-match']).toBeUndefined();
  });

  it('coalesces concurrent misses into one origin request', async () => {
    const base = await start();
    const path = fresh('coalesce');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('slow'), delayMs: 300 });
    const all = await Promise.all(Array.from({ length: 12 }, () => get(base, path)));
    expect(origin.count(path)).toBe(1);
    for (const r of all) {
      expect(r.status).toBe(200);
      expect(r.text).toBe(all[0]!.text);
      expect(r.text).toContain('<p id="t">slow</p>');
    }
    expect((await get(base, path)).headers['x-cache']).toBe('HIT');
  });

  it('coalesces per variant: concurrent readers of a Vary: Accept-Language page each get their own', async () => {
    const base = await start();
    const path = fresh('vary-coalesce');
    origin.routes.set(path, {
      headers: { 'cache-control': 'max-age=60', vary: 'Accept-Language' },
      body: (req) => page(`lang-${req.headers['accept-language'] ?? 'none'}`),
      delayMs: 300,
    });
    const [en, zh, en2] = await Promise.all([get(base, path, { 'accept-language': 'en' }), get(base, path, { 'accept-language': 'zh' }), get(base, path, { 'accept-language': 'en' })]);
    expect(en.text).toContain('lang-en');
    expect(en2.text).toContain('lang-en');
    expect(zh.text).toContain('lang-zh');
    expect(origin.count(path)).toBe(2);
  });

  it('shares an unstored (no-cache, no validator) response with coalesced readers instead of refetching', async () => {
    const base = await start();
    const path = fresh('nocache-coalesce');
    origin.routes.set(path, { headers: { 'cache-control': 'no-cache' }, body: page('shared'), delayMs: 300 });
    const all = await Promise.all(Array.from({ length: 8 }, () => get(base, path)));
    expect(origin.count(path)).toBe(1);
    for (const r of all) expect(r.text).toContain('<p id="t">shared</p>');
    // Not stored: the next reader asks the origin.
    expect((await get(base, path)).headers['x-cache']).toBe('MISS');
    expect(origin.count(path)).toBe(2);
  });

  it('never shares a personal response (Set-Cookie, private) with coalesced readers', async () => {
    const base = await start();
    for (const headers of [{ 'set-cookie': 'sid=1' }, { 'cache-control': 'private' }] as Record<string, string>[]) {
      const path = fresh('personal-coalesce');
      origin.routes.set(path, { headers, body: page('personal'), delayMs: 300 });
      await Promise.all(Array.from({ length: 3 }, () => get(base, path)));
      expect(origin.count(path)).toBe(3);
    }
  });

  it('serves stale while revalidating, refreshing once in the background', async () => {
    const base = await start({ maxTtl: 1, staleWhileRevalidate: 30 });
    const path = fresh('swr');
    let version = 1;
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: () => page(`v${version}`), delayMs: 200 });
    expect((await get(base, path)).text).toContain('v1');
    version = 2;
    await sleep(1100);
    const started = Date.now();
    const stale = await Promise.all([get(base, path), get(base, path), get(base, path)]);
    expect(Date.now() - started).toBeLessThan(200); // did not wait for the 200 ms origin
    for (const r of stale) {
      expect(r.headers['x-cache']).toBe('STALE');
      expect(r.text).toContain('v1');
    }
    await sleep(400);
    expect(origin.count(path)).toBe(2);
    const after = await get(base, path);
    expect(after.headers['x-cache']).toBe('HIT');
    expect(after.text).toContain('v2');
  });

  it('serves a stale copy with status 200 when the origin fails (5xx, reset)', async () => {
    const base = await start({ maxTtl: 1, staleWhileRevalidate: 0, staleIfError: 60 });
    for (const failure of [{ status: 503, body: 'down' }, { fail: 'reset' as const }]) {
      const path = fresh('sie');
      origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('old') });
      await get(base, path);
      await sleep(1100);
      origin.routes.set(path, failure);
      const r = await get(base, path);
      expect(r.status).toBe(200);
      expect(r.headers['x-cache']).toBe('STALE');
      expect(r.text).toContain('old');
    }
  });

  it('revalidates a stale entry with the origin (304 → REVALIDATED)', async () => {
    const base = await start({ maxTtl: 1, staleWhileRevalidate: 0 });
    const path = fresh('reval');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60', etag: '"e1"' }, body: page('same') });
    const first = await get(base, path);
    await sleep(1100);
    origin.routes.set(path, { status: 304, headers: { etag: '"e1"', 'cache-control': 'max-age=60' } });
    const r = await get(base, path);
    expect(r.status).toBe(200);
    expect(r.headers['x-cache']).toBe('REVALIDATED');
    expect(r.text).toBe(first.text);
    expect(origin.hits.get(path)!.at(-1)!.headers['if-none-match']).toBe('"e1"');
    expect((await get(base, path)).headers['x-cache']).toBe('HIT');
  });

  it('caches 404s for negativeTtl only', async () => {
    const base = await start({ negativeTtl: 1 });
    const path = fresh('404');
    origin.routes.set(path, { status: 404, body: page('gone') });
    expect((await get(base, path)).status).toBe(404);
    const hit = await get(base, path);
    expect(hit.status).toBe(404);
    expect(hit.headers['x-cache']).toBe('HIT');
    await sleep(1100);
    expect(['MISS', 'STALE']).toContain((await get(base, path)).headers['x-cache']);
  });

  it('applies per-content-type overrides', async () => {
    const base = await start({ maxTtl: 1, staleWhileRevalidate: 0, overrides: [{ contentType: 'image/', maxTtl: 3600 }] });
    const img = fresh('img.png');
    const html = fresh('page');
    origin.routes.set(img, { headers: { 'cache-control': 'max-age=600', 'content-type': 'image/png' }, body: 'PNG' });
    origin.routes.set(html, { headers: { 'cache-control': 'max-age=600' }, body: page('h') });
    await get(base, img);
    await get(base, html);
    await sleep(1100);
    expect((await get(base, img)).headers['x-cache']).toBe('HIT');
    expect((await get(base, html)).headers['x-cache']).toBe('MISS');
  });

  it('stays within maxBytes (evicting least recently used) and streams bodies over maxEntryBytes uncached', async () => {
    const base = await start({ maxBytes: 300_000, maxEntryBytes: 100_000 });
    const paths = Array.from({ length: 8 }, (_, i) => fresh(`big${i}`));
    for (const p of paths) {
      origin.routes.set(p, { headers: { 'cache-control': 'max-age=600' }, body: page('x'.repeat(30_000)) }); // ~60 KB (the text is in <title> and <p>)
      await get(base, p);
    }
    // The newest are still there, the oldest were evicted.
    expect((await get(base, paths.at(-1)!)).headers['x-cache']).toBe('HIT');
    expect((await get(base, paths[0]!)).headers['x-cache']).toBe('MISS');
    const huge = fresh('huge');
    origin.routes.set(huge, { headers: { 'cache-control': 'max-age=600' }, body: page('y'.repeat(125_000)) }); // ~250 KB
    const a = await get(base, huge);
    const b = await get(base, huge);
    expect(a.headers['x-cache']).toBe('MISS');
    expect(b.headers['x-cache']).toBe('MISS');
    expect(b.text.length).toBeGreaterThan(250_000);
    expect(origin.count(huge)).toBe(2);
  });

  it('never shows a reader of mirror A the host of mirror B', async () => {
    const base = await start();
    const dependent = fresh('og');
    origin.routes.set(dependent, {
      headers: { 'cache-control': 'max-age=60' },
      body: '<html><head><meta property="og:url" content="https://www.epochtimes.com/gb/x.htm"></head><body>og</body></html>',
    });
    const a = await get(base, dependent, { host: 'mirror-a.example' });
    const b = await get(base, dependent, { host: 'mirror-b.example' });
    expect(a.text).toContain('http://mirror-a.example/gb/x.htm');
    expect(b.text).toContain('http://mirror-b.example/gb/x.htm');
    expect(b.text).not.toContain('mirror-a');
    expect((await get(base, dependent, { host: 'mirror-a.example' })).headers['x-cache']).toBe('HIT');
    expect((await get(base, dependent, { host: 'mirror-b.example' })).headers['x-cache']).toBe('HIT');
    // A body that names no host is shared by every mirror host.
    const shared = fresh('shared');
    origin.routes.set(shared, { headers: { 'cache-control': 'max-age=60' }, body: page('s') });
    await get(base, shared, { host: 'mirror-a.example' });
    expect((await get(base, shared, { host: 'mirror-b.example' })).headers['x-cache']).toBe('HIT');
  });

  it('serves identity, gzip and br readers from one entry', async () => {
    const base = await start();
    const path = fresh('enc');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('z'.repeat(5000)) });
    const plain = await get(base, path);
    const gz = await get(base, path, { 'accept-encoding': 'gzip' });
    const br = await get(base, path, { 'accept-encoding': 'br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.headers['content-encoding']).toBe('br');
    expect(zlib.gunzipSync(gz.body).toString()).toBe(plain.text);
    expect(zlib.brotliDecompressSync(br.body).toString()).toBe(plain.text);
    expect(origin.count(path)).toBe(1);
  });

  it('answers HEAD from the stored GET', async () => {
    const base = await start();
    const path = fresh('head');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('h') });
    await get(base, path);
    const head = await get(base, path, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['x-cache']).toBe('HIT');
    expect(head.body.length).toBe(0);
    expect(origin.count(path)).toBe(1);
  });

  it('is off with cache.enabled: false', async () => {
    const base = await start({ enabled: false });
    const path = fresh('off');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=60' }, body: page('o') });
    expect((await get(base, path)).headers['x-cache']).toBe('BYPASS');
    expect((await get(base, path)).headers['x-cache']).toBe('BYPASS');
    expect(origin.count(path)).toBe(2);
  });

  it('purges one URL or a prefix with the bearer token, and refuses without it', async () => {
    const base = await start();
    const paths = [fresh('p1'), fresh('p2')].map((p) => `/gb${p}`);
    for (const p of paths) {
      origin.routes.set(p, { headers: { 'cache-control': 'max-age=600' }, body: page('p') });
      await get(base, p);
      expect((await get(base, p)).headers['x-cache']).toBe('HIT');
    }
    const purge = (body: unknown, token?: string) =>
      rawRequest(base, '/_mirror/purge', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    expect((await purge({ url: paths[0] })).status).toBe(401);
    expect((await purge({ url: paths[0] }, 'wrong-token-wrong-token')).status).toBe(401);
    const one = await purge({ url: `https://www.epochtimes.com${paths[0]}` }, 'secret-token-0123456789');
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text).purged).toBe(1);
    expect((await get(base, paths[0]!)).headers['x-cache']).toBe('MISS');
    expect((await get(base, paths[1]!)).headers['x-cache']).toBe('HIT');
    const prefix = await purge({ prefix: '/gb/' }, 'secret-token-0123456789');
    expect(JSON.parse(prefix.text).purged).toBe(2);
    expect((await get(base, paths[1]!)).headers['x-cache']).toBe('MISS');
    expect((await purge({ nothing: 1 }, 'secret-token-0123456789')).status).toBe(400);

    const noToken = await startNodeServer({ config: resolve({ sites: [testSiteConfig(origin.url)] }), port: 0 });
    try {
      const r = await rawRequest(noToken.url, '/_mirror/purge', { method: 'POST', headers: { authorization: 'Bearer anything-at-all-here' }, body: '{"prefix":"/"}' });
      expect(r.status).toBe(403);
    } finally {
      await noToken.close();
    }
  });

  it('invalidates a URL after a successful POST to it', async () => {
    const base = await start();
    const path = fresh('post');
    origin.routes.set(path, { headers: { 'cache-control': 'max-age=600' }, body: page('p') });
    await get(base, path);
    expect((await get(base, path)).headers['x-cache']).toBe('HIT');
    await rawRequest(base, path, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect((await get(base, path)).headers['x-cache']).toBe('MISS');
  });
});
