import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { rawRequest, resolve, testSiteConfig } from '../helpers/mirror.ts';

/** A raw TCP exchange: what a hostile or broken client would send. */
function rawExchange(port: number, text: string, waitMs = 2000): Promise<string> {
  return new Promise((done) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => done(data));
    socket.on('error', () => done(data));
    setTimeout(() => socket.destroy(), waitMs);
  });
}

/** An origin whose every request is recorded; `/slow` waits, `/stall` stops mid-body, `/die` resets mid-body. */
async function startOrigin() {
  const seen: { host?: string; url?: string }[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url });
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    res.on('close', () => concurrent--);
    const url = req.url ?? '/';
    if (url.startsWith('/slow')) {
      setTimeout(() => res.end('<p>slow</p>'), 600);
    } else if (url.startsWith('/stall')) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'max-age=600' });
      res.write('<html><body><p>' + 'a'.repeat(5000));
    } else if (url.startsWith('/die')) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'max-age=600', 'content-length': '100000' });
      res.write('<html><body><p>' + 'b'.repeat(5000), () => setTimeout(() => req.socket.destroy(), 50));
    } else if (url.startsWith('/bigheaders')) {
      res.writeHead(200, { 'x-huge': 'h'.repeat(80_000), 'content-type': 'text/html' });
      res.end('<p>x</p>');
    } else if (url.startsWith('/redirect-out')) {
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    } else if (req.method === 'POST') {
      let n = 0;
      req.on('data', (d: Buffer) => (n += d.length));
      req.on('end', () => res.end(`<p>got ${n}</p>`));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<html><body><p>${url}</p></body></html>`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get maxConcurrent() {
      return maxConcurrent;
    },
    resetMax() {
      maxConcurrent = concurrent;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('hardening', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let bystander: http.Server;
  let bystanderHits = 0;
  let bystanderPort = 0;
  let proxy: RunningServer;

  beforeAll(async () => {
    origin = await startOrigin();
    // A server that must never be reached through the mirror.
    bystander = http.createServer((_req, res) => {
      bystanderHits++;
      res.end('SECRET');
    });
    await new Promise<void>((r) => bystander.listen(0, '127.0.0.1', r));
    bystanderPort = (bystander.address() as AddressInfo).port;
    proxy = await startNodeServer({
      config: resolve({
        server: { maxBodyBytes: 1000, maxUrlBytes: 2000, clientHeadersTimeout: 1, maxConcurrentOriginRequests: 2, originQueueTimeout: 1, originIdleTimeout: 1 },
        cache: { enabled: true },
        sites: [testSiteConfig(origin.url)],
      }),
      port: 0,
    });
  });
  afterAll(async () => {
    await proxy.close();
    await origin.close();
    bystander.close();
  });

  describe('not an open proxy', () => {
    it.each([
      [`GET http://127.0.0.1:BYSTANDER/steal HTTP/1.1\r\nHost: mirror.test\r\n\r\n`, 'absolute-form request line'],
      [`GET http://127.0.0.1:BYSTANDER/steal HTTP/1.1\r\nHost: 127.0.0.1:BYSTANDER\r\n\r\n`, 'absolute-form with matching Host'],
      [`GET //127.0.0.1:BYSTANDER/steal HTTP/1.1\r\nHost: mirror.test\r\n\r\n`, '//host path'],
      [`GET /..%2f..%2f127.0.0.1:BYSTANDER/steal HTTP/1.1\r\nHost: mirror.test\r\n\r\n`, 'encoded traversal'],
      [`GET /_i/../..//127.0.0.1:BYSTANDER/ HTTP/1.1\r\nHost: mirror.test\r\n\r\n`, 'dot segments past a mount'],
      [`GET /%2F%2F127.0.0.1:BYSTANDER/ HTTP/1.1\r\nHost: mirror.test\r\n\r\n`, 'encoded slashes'],
      [`GET / HTTP/1.1\r\nHost: 127.0.0.1:BYSTANDER\r\n\r\n`, 'Host of another server'],
      [`GET / HTTP/1.1\r\nHost: user@127.0.0.1:BYSTANDER\r\n\r\n`, 'Host with credentials'],
      [`GET / HTTP/1.1\r\nHost: mirror.test\r\nX-Forwarded-Host: 127.0.0.1:BYSTANDER\r\n\r\n`, 'X-Forwarded-Host'],
    ])('%#: %s never reaches an unconfigured host (%s)', async (request) => {
      const before = bystanderHits;
      const count = origin.seen.length;
      const reply = await rawExchange(proxy.port, request.replaceAll('BYSTANDER', String(bystanderPort)), 1500);
      expect(reply).not.toContain('SECRET');
      expect(bystanderHits).toBe(before);
      // Whatever reached an origin went to the configured one, with its Host.
      for (const s of origin.seen.slice(count)) expect(['www.epochtimes.com', 'i.epochtimes.com']).toContain(s.host);
      expect(reply).toMatch(/^HTTP\/1\.1 (200|400|404|421)/);
    });

    it('does not follow origin redirects to other hosts', async () => {
      const res = await rawRequest(proxy.url, '/redirect-out');
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('http://127.0.0.1:1/elsewhere');
    });
  });

  describe('limits', () => {
    it('answers 414 to over-long URLs and 431 to oversized headers', async () => {
      expect((await rawRequest(proxy.url, '/' + 'a'.repeat(3000))).status).toBe(414);
      const reply = await rawExchange(proxy.port, `GET / HTTP/1.1\r\nHost: m\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
      expect(reply).toMatch(/^HTTP\/1\.1 431/);
    });

    it('answers 413 to request bodies over maxBodyBytes, declared or chunked, without forwarding them', async () => {
      const declared = await rawRequest(proxy.url, '/post', { method: 'POST', body: 'x'.repeat(5000), headers: { 'content-length': '5000' } });
      expect(declared.status).toBe(413);
      const chunked = await new Promise<number>((done, fail) => {
        const req = http.request({ host: '127.0.0.1', port: proxy.port, path: '/post', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
          res.resume();
          done(res.statusCode!);
        });
        req.on('error', fail);
        for (let i = 0; i < 10; i++) req.write('y'.repeat(500));
        req.end();
      });
      expect(chunked).toBe(413);
      const small = await rawRequest(proxy.url, '/post', { method: 'POST', body: 'z'.repeat(500) });
      expect(small.text).toContain('got 500');
    });

    it('closes connections that send headers too slowly (slowloris)', async () => {
      const started = Date.now();
      const reply = await new Promise<string>((done) => {
        const socket = net.connect(proxy.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: m\r\n'));
        let data = '';
        const drip = setInterval(() => socket.write('X-Drip: 1\r\n'), 200);
        socket.on('data', (d) => (data += d));
        socket.on('close', () => {
          clearInterval(drip);
          done(data);
        });
        setTimeout(() => socket.destroy(), 6000);
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(reply).toMatch(/^HTTP\/1\.1 408|^$/);
    });

    it('answers 502 when the origin sends oversized headers', async () => {
      expect((await rawRequest(proxy.url, '/bigheaders')).status).toBe(502);
    });

    it('caps concurrent origin requests per site, queueing the rest and answering 503 past the queue timeout', async () => {
      origin.resetMax();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => rawRequest(proxy.url, `/slow?${i}`)));
      expect(origin.maxConcurrent).toBeLessThanOrEqual(2);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      for (const r of results.filter((r) => r.status === 503)) expect(r.headers['retry-after']).toBe('5');
    });
  });

  describe('broken origin bodies', () => {
    for (const [name, p] of [
      ['stalls', '/stall'],
      ['dies', '/die'],
    ] as const) {
      it(`ends the reader's response as an error (not a clean 200) when the origin ${name} mid-body, and caches nothing`, async () => {
        const outcome = await new Promise<{ status: number; complete: boolean; bytes: number }>((done) => {
          http
            .get({ host: '127.0.0.1', port: proxy.port, path: p }, (res) => {
              let bytes = 0;
              res.on('data', (d: Buffer) => (bytes += d.length));
              res.on('end', () => done({ status: res.statusCode!, complete: res.complete, bytes }));
              res.on('error', () => done({ status: res.statusCode!, complete: false, bytes }));
              res.on('aborted', () => done({ status: res.statusCode!, complete: false, bytes }));
            })
            .on('error', () => done({ status: 0, complete: false, bytes: 0 }));
        });
        // Visibly failed: an aborted transfer, or (when nothing had reached the reader yet, e.g. bytes
        // held back for charset sniffing) a 5xx error page; never a complete-looking 200.
        expect(outcome.complete === false || outcome.status >= 500).toBe(true);
        const again = await new Promise<string | undefined>((done) => {
          http.get({ host: '127.0.0.1', port: proxy.port, path: p }, (res) => {
            done(res.headers['x-cache'] as string);
            res.destroy();
          }).on('error', () => done('error'));
        });
        expect(again).not.toBe('HIT');
        expect(again).not.toBe('STALE');
      });
    }
  });

  describe('response headers and escaping', () => {
    it('adds nosniff, no-referrer and noindex to every response', async () => {
      for (const p of ['/', '/_mirror/purge', '/' + 'a'.repeat(3000)]) {
        const res = await rawRequest(proxy.url, p);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['x-robots-tag']).toBe('noindex, nofollow');
      }
    });

    it('escapes request-derived values in error pages', async () => {
      const res = await rawRequest(proxy.url, '/bigheaders%22%3E%3Cscript%3Ealert(1)%3C/script%3E?"><img%20src=x%20onerror=alert(1)>');
      expect(res.status).toBe(502);
      expect(res.text).toContain('原文链接（需翻墙）');
      expect(res.text).not.toMatch(/<script>alert|<img src=x/i);
      // The URL parser already percent-encodes " < > in the query; what it leaves (' in paths) is escaped by us.
      const quote = await rawRequest(proxy.url, "/bigheaders'onmouseover='alert(1)");
      expect(quote.text).toContain('&#39;onmouseover=&#39;alert(1)');
      expect(quote.text).not.toContain("'onmouseover='");
    });
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, finishes in-flight responses, exits 0', async () => {
    const origin = await startOrigin();
    const dir = mkdtempSync(path.join(tmpdir(), 'edgemirror-'));
    const configFile = path.join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ server: { shutdownTimeout: 5 }, sites: [testSiteConfig(origin.url)] }));
    const root = path.resolve(import.meta.dirname, '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node/main.ts', '--config', configFile, '--port', '0', '--host', '127.0.0.1'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((done, fail) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (m) done(Number(m[1]));
        });
        setTimeout(() => fail(new Error(`no start: ${out}`)), 15_000);
      });
      const inFlight = rawRequest(`http://127.0.0.1:${port}`, '/slow-shutdown');
      await new Promise((r) => setTimeout(r, 150));
      const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      const refused = await rawRequest(`http://127.0.0.1:${port}`, '/').then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(res.text).toContain('slow');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await origin.close();
    }
  });
});
