import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorConfigInput } from '../../src/config/types.ts';
import { testSiteConfig } from '../helpers/mirror.ts';
import { startWorker, type RunningWorker } from '../helpers/worker.ts';

/**
 * What the Worker does when pages are huge, origins break off, or many readers arrive at once: the
 * failures a reader must see (never a clean, truncated 200), what must never be cached, and request
 * coalescing. Runs in workerd (Miniflare), through fetch() and through the socket client.
 */
const LINK = '<p><a href="https://www.epochtimes.com/gb/x.htm">大纪元</a></p>';
const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>${LINK.repeat(2500)}</body></html>`;
const DATA_URL = `data:image/png;base64,${'A'.repeat(3 * 1024 * 1024)}`;
const DATA_URL_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>big</title></head><body><img src="${DATA_URL}" data-src="x.png">${LINK}<p id="after">after</p></body></html>`;
const BIG_PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>${LINK.repeat(40_000)}</body></html>`;
const PNG = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));

interface Outcome {
  status: number;
  complete: boolean;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => done({ status: res.statusCode!, complete: res.complete, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => done({ status: res.statusCode!, complete: false, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('aborted', () => done({ status: res.statusCode!, complete: false, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', () => done({ status: 0, complete: false, headers: {}, body: Buffer.alloc(0) }));
    req.setTimeout(20_000, () => req.destroy());
  });
}

/** A whole, clean 200: what a failed body must never look like. */
const cleanOk = (r: Outcome) => r.status === 200 && r.complete && !r.body.includes('mirror-cut');

async function startOrigin() {
  const hits = new Map<string, number>();
  let releaseSlow: () => void = () => {};
  let slowGate = new Promise<void>((r) => (releaseSlow = r));
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const html = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'max-age=600', etag: '"v1"' };
    req.resume();
    if (path === '/gb/data-url.htm') return res.writeHead(200, html).end(DATA_URL_PAGE);
    if (path === '/gb/cut.htm' || path === '/gb/cut-big.htm') {
      // Promises the whole page, sends half, drops the connection.
      const body = Buffer.from(path === '/gb/cut.htm' ? PAGE : BIG_PAGE);
      res.writeHead(200, { ...html, 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    if (path === '/gb/slow.htm') {
      res.writeHead(200, html);
      res.write(PAGE.slice(0, 1000));
      void slowGate.then(() => res.end(PAGE.slice(1000)));
      return;
    }
    if (path === '/gb/vary.htm') {
      const lang = req.headers['accept-language'] ?? 'none';
      res.writeHead(200, { ...html, vary: 'Accept-Language' });
      res.write(`<html><body><p>lang `);
      setTimeout(() => res.end(`${lang}</p></body></html>`), 300);
      return;
    }
    if (path === '/gb/large.htm') return res.writeHead(200, html).end(BIG_PAGE);
    if (path === '/gb/small.htm') return res.writeHead(200, html).end(`<html><body>${LINK}</body></html>`);
    if (path === '/img.png') {
      const range = req.headers.range;
      if (range === 'bytes=0-99') {
        return res.writeHead(206, { 'content-type': 'image/png', 'content-range': `bytes 0-99/${PNG.length}`, 'content-length': '100' }).end(PNG.subarray(0, 100));
      }
      return res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length), 'cache-control': 'max-age=600' }).end(PNG);
    }
    if (path === '/gb/br.htm') {
      // Answers br whatever was asked, unless the request says identity.
      if (req.headers['accept-encoding'] === 'identity') return res.writeHead(200, html).end(PAGE);
      return res.writeHead(200, { ...html, 'content-encoding': 'br' }).end(zlib.brotliCompressSync(PAGE));
    }
    if (path === '/br.png') return res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'br' }).end(zlib.brotliCompressSync(PNG));
    if (path === '/gb/truncated-gzip.htm') {
      const gz = zlib.gzipSync(PAGE);
      return res.writeHead(200, { ...html, 'content-encoding': 'gzip' }).end(gz.subarray(0, gz.length >> 1));
    }
    res.writeHead(200, html).end(PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    hits,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    releaseSlow: () => {
      releaseSlow();
      slowGate = new Promise<void>((r) => (releaseSlow = r));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Origin = Awaited<ReturnType<typeof startOrigin>>;

/** The Worker in front of `origin`: through fetch() (upstream as DNS) or through its socket client. */
async function workerFor(origin: Origin, via: 'fetch' | 'socket', input: Omit<MirrorConfigInput, 'sites'> = {}, onLog?: (line: string) => void) {
  const site = testSiteConfig(origin.url);
  if (via === 'fetch') for (const o of site.origins) delete o.upstream;
  const config = { ...input, server: { accessLog: 'off' as const, ...input.server }, sites: [site] };
  return startWorker({ mirrorConfig: JSON.stringify(config), resolveTo: via === 'fetch' ? new URL(origin.url).host : undefined, onLog });
}

for (const via of ['fetch', 'socket'] as const) {
  describe(`Worker failures and coalescing (${via})`, () => {
    let origin: Origin;
    let worker: RunningWorker;
    const logs: string[] = [];
    beforeAll(async () => {
      origin = await startOrigin();
      worker = await workerFor(origin, via, {}, (line) => logs.push(line));
    });
    afterAll(async () => {
      await worker?.close();
      await origin?.close();
    });

    it('delivers a page with a 3 MB data: URL whole, rewritten to the end (fast engine)', async () => {
      const r = await get(worker.port, '/gb/data-url.htm');
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      const text = r.body.toString('utf8');
      expect(text).toContain(DATA_URL);
      expect(text).toContain('<p id="after">after</p>');
      expect(text).toContain('<a href="/gb/x.htm">');
      expect(text).toContain('class="mirror-footer"');
    });

    it('shows a body cut by the origin as a failure, and does not cache it', async () => {
      const first = await get(worker.port, '/gb/cut.htm');
      expect(cleanOk(first)).toBe(false);
      const again = await get(worker.port, '/gb/cut.htm');
      expect(cleanOk(again)).toBe(false);
      expect(again.headers['x-cache']).not.toBe('HIT');
      expect(origin.hits.get('/gb/cut.htm')).toBe(2);
    });

    it('shows a long body cut after the first part went out as broken off, and does not cache it', async () => {
      const first = await get(worker.port, '/gb/cut-big.htm');
      expect(cleanOk(first)).toBe(false);
      expect(first.body.length).toBeLessThan(BIG_PAGE.length);
      const again = await get(worker.port, '/gb/cut-big.htm');
      expect(again.headers['x-cache']).not.toBe('HIT');
      expect(origin.hits.get('/gb/cut-big.htm')).toBe(2);
    });

    it('coalesces 20 concurrent misses into one origin request, every reader getting the whole page', async () => {
      const readers = Array.from({ length: 20 }, () => get(worker.port, '/gb/slow.htm'));
      // Let every request reach the Worker before the origin finishes.
      for (let i = 0; i < 50 && (origin.hits.get('/gb/slow.htm') ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 500));
      origin.releaseSlow();
      const results = await Promise.all(readers);
      expect(origin.hits.get('/gb/slow.htm')).toBe(1);
      for (const r of results) {
        expect(cleanOk(r)).toBe(true);
        expect(r.body.toString('utf8')).toBe(results[0]!.body.toString('utf8'));
      }
      expect(results[0]!.body.toString('utf8')).toContain('class="mirror-footer"');
    });

    it('coalesces per variant: concurrent readers of a Vary page each get their own', async () => {
      const [en, zh] = await Promise.all([get(worker.port, '/gb/vary.htm', { 'accept-language': 'en' }), get(worker.port, '/gb/vary.htm', { 'accept-language': 'zh' })]);
      expect(en.body.toString('utf8')).toContain('lang en');
      expect(zh.body.toString('utf8')).toContain('lang zh');
    });

    it('keeps Content-Length on passthrough bodies, ranges included', async () => {
      const full = await get(worker.port, '/img.png');
      expect(full.headers['content-length']).toBe(String(PNG.length));
      expect(full.body.equals(PNG)).toBe(true);
      const part = await get(worker.port, '/img.png', { range: 'bytes=0-99' });
      expect(part.status).toBe(206);
      expect(part.headers['content-length']).toBe('100');
      expect(part.body.equals(PNG.subarray(0, 100))).toBe(true);
    });

    it('rewrites a page the origin sends as br, and passes a br image through encoded', async () => {
      const page = await get(worker.port, '/gb/br.htm');
      expect(cleanOk(page)).toBe(true);
      expect(page.body.toString('utf8')).toContain('<a href="/gb/x.htm">');
      expect(page.body.toString('utf8')).toContain('class="mirror-footer"');
      const image = await get(worker.port, '/br.png');
      expect(image.status).toBe(200);
      const bytes = image.headers['content-encoding'] === 'br' ? zlib.brotliDecompressSync(image.body) : image.body;
      expect(bytes.equals(PNG)).toBe(true);
      if (via === 'socket') expect(logs.some((l) => l.includes('/gb/br.htm') && l.includes('asking again for identity'))).toBe(true);
    });

    it('shows a truncated gzip body as a failure, never a complete 200, and does not cache it', async () => {
      const r = await get(worker.port, '/gb/truncated-gzip.htm');
      expect(cleanOk(r)).toBe(false);
      const again = await get(worker.port, '/gb/truncated-gzip.htm');
      expect(again.headers['x-cache']).not.toBe('HIT');
    });
  });
}

describe('Worker cache limits', () => {
  let origin: Origin;
  let worker: RunningWorker;
  beforeAll(async () => {
    origin = await startOrigin();
    worker = await workerFor(origin, 'fetch', { cache: { maxEntryBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await worker?.close();
    await origin?.close();
  });

  it('does not store a rewritten body over maxEntryBytes (it has no Content-Length to check)', async () => {
    const first = await get(worker.port, '/gb/large.htm');
    expect(cleanOk(first)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    const again = await get(worker.port, '/gb/large.htm');
    expect(again.headers['x-cache']).toBe('MISS');
    expect(origin.hits.get('/gb/large.htm')).toBe(2);
  });

  it('stores a page under maxEntryBytes', async () => {
    expect(cleanOk(await get(worker.port, '/gb/small.htm'))).toBe(true);
    let hit = '';
    for (let i = 0; i < 20 && hit !== 'HIT'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      hit = String((await get(worker.port, '/gb/small.htm')).headers['x-cache']);
    }
    expect(hit).toBe('HIT');
  });
});

describe('Worker with the native HTMLRewriter (server.htmlEngine: "lol-html")', () => {
  let origin: Origin;
  let worker: RunningWorker;
  beforeAll(async () => {
    origin = await startOrigin();
    worker = await workerFor(origin, 'fetch', { server: { htmlEngine: 'lol-html' } });
  });
  afterAll(async () => {
    await worker?.close();
    await origin?.close();
  });

  it('rewrites ordinary pages', async () => {
    const r = await get(worker.port, '/gb/page.htm');
    expect(cleanOk(r)).toBe(true);
    expect(r.body.toString('utf8')).toContain('<a href="/gb/x.htm">');
    expect(r.body.toString('utf8')).toContain('class="mirror-footer"');
  });

  it('fails a page with a start tag over its 3 MiB limit visibly instead of cutting it silently', async () => {
    const r = await get(worker.port, '/gb/data-url.htm');
    expect(cleanOk(r)).toBe(false);
    expect(r.status === 502 || r.body.includes('mirror-cut') || !r.complete).toBe(true);
  });
});

describe('Worker request targets', () => {
  let origin: Origin;
  let worker: RunningWorker;
  beforeAll(async () => {
    origin = await startOrigin();
    worker = await workerFor(origin, 'fetch');
  });
  afterAll(async () => {
    await worker?.close();
    await origin?.close();
  });

  function raw(request: string): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(worker.port, '127.0.0.1', () => socket.write(request));
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (text += d));
      socket.on('end', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.setTimeout(10_000, () => socket.destroy());
    });
  }

  // An absolute-form request line and a Host that is not a valid host name never reach the Worker:
  // workerd's own HTTP server refuses them with a 500 while building request.url, before any Worker code
  // runs (Cloudflare's edge answers such requests itself). What the Worker controls: it stays up.
  it('survives an absolute-form request and a Host with a quote (refused by workerd before the Worker)', async () => {
    const absolute = await raw('GET http://evil.example/gb/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 (400|421|500)/);
    const quoted = await raw('GET /gb/ HTTP/1.1\r\nHost: evil.example"x\r\nConnection: close\r\n\r\n');
    expect(quoted).toMatch(/^HTTP\/1\.1 (400|500)/);
    expect(quoted).not.toContain('evil.example"x');
    expect(cleanOk(await get(worker.port, '/gb/small.htm'))).toBe(true);
  });
});
