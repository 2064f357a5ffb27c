import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeServer, type RunningServer } from '../../src/node/server.ts';
import { WasmHtmlEngine } from '../../src/node/wasm-html-engine.ts';
import { rawRequest, resolve, testSiteConfig } from '../helpers/mirror.ts';

const PAGE = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>${'<p><a href="https://www.epochtimes.com/gb/x.htm">大纪元</a></p>'.repeat(2000)}</body></html>`;

/** Origins that lie: truncated compression, wrong Content-Length, wrong charsets and types. */
async function startLyingOrigin() {
  const gz = zlib.gzipSync(PAGE);
  const br = zlib.brotliCompressSync(Buffer.from(PAGE));
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const send = (status: number, headers: http.OutgoingHttpHeaders, body?: Buffer | string) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    if (url === '/truncated-gzip') return send(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }, gz.subarray(0, gz.length >> 1));
    if (url === '/truncated-br') return send(200, { 'content-type': 'text/html', 'content-encoding': 'br' }, br.subarray(0, br.length >> 1));
    if (url === '/garbage-gzip') return send(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' }, 'this is not gzip at all');
    if (url === '/unknown-encoding') return send(200, { 'content-type': 'text/plain', 'content-encoding': 'zstd' }, 'opaque');
    if (url === '/short-content-length') {
      // Claims more than it sends, then closes.
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(PAGE) + 5000) });
      res.write(PAGE, () => res.socket?.destroy());
      return;
    }
    if (url === '/long-content-length') {
      // Sends more bytes than it claims: the HTTP client keeps only what was declared.
      const sock = res.socket!;
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\nConnection: close\r\n\r\n<p>twenty bytes!!</p>and some trailing junk`);
      sock.end();
      return;
    }
    if (url === '/wrong-charset') return send(200, { 'content-type': 'text/html; charset=x-no-such-charset' }, PAGE);
    if (url === '/latin1-says-utf8') return send(200, { 'content-type': 'text/html; charset=utf-8' }, Buffer.from([0x3c, 0x70, 0x3e, 0xe9, 0xff, 0xfe, 0x00, 0x3c, 0x2f, 0x70, 0x3e]));
    if (url === '/binary-as-html') return send(200, { 'content-type': 'text/html' }, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) % 256)));
    if (url === '/html-as-image') return send(200, { 'content-type': 'image/png' }, PAGE);
    if (url === '/bad-css') return send(200, { 'content-type': 'text/css; charset=gbk' }, Buffer.from([0x81, 0x40, 0x75, 0x72, 0x6c, 0x28]));
    if (url === '/bad-feed') return send(200, { 'content-type': 'application/rss+xml' }, '<rss><channel><item><description><![CDATA[<a href="https://www.epochtimes.com/x">');
    return send(200, { 'content-type': 'text/html; charset=utf-8' }, PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function fetchOutcome(port: number, path: string): Promise<{ status: number; complete: boolean; body: Buffer }> {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => done({ status: res.statusCode!, complete: res.complete, body: Buffer.concat(chunks) }));
      res.on('error', () => done({ status: res.statusCode!, complete: false, body: Buffer.concat(chunks) }));
    });
    req.on('error', () => done({ status: 0, complete: false, body: Buffer.alloc(0) }));
    req.setTimeout(10_000, () => req.destroy());
  });
}

describe('origins that lie', () => {
  let origin: Awaited<ReturnType<typeof startLyingOrigin>>;
  let proxy: RunningServer;
  beforeAll(async () => {
    origin = await startLyingOrigin();
    proxy = await startNodeServer({ config: resolve({ server: { originIdleTimeout: 2 }, sites: [testSiteConfig(origin.url)] }), port: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    origin.server.closeAllConnections();
    origin.server.close();
  });

  it.each(['/truncated-gzip', '/truncated-br', '/garbage-gzip', '/short-content-length'])('%s ends as a clean error, never a complete 200', async (path) => {
    const r = await fetchOutcome(proxy.port, path);
    expect(r.status === 200 && r.complete).toBe(false);
    // And the mirror is still up, with nothing wrong cached.
    expect((await fetchOutcome(proxy.port, '/ok')).complete).toBe(true);
    const again = await rawRequest(proxy.url, path).catch(() => null);
    if (again) expect(again.headers['x-cache']).not.toBe('HIT');
  });

  it.each([
    ['/unknown-encoding', 200],
    ['/long-content-length', 200],
    ['/wrong-charset', 200],
    ['/latin1-says-utf8', 200],
    ['/binary-as-html', 200],
    ['/html-as-image', 200],
    ['/bad-css', 200],
    ['/bad-feed', 200],
  ])('%s passes through or is rewritten without crashing', async (path, status) => {
    const r = await fetchOutcome(proxy.port, path);
    expect(r.status).toBe(status);
    expect(r.complete).toBe(true);
  });

  it('passes a body labelled as an image through byte for byte (no rewriting by content sniffing)', async () => {
    const r = await fetchOutcome(proxy.port, '/html-as-image');
    expect(r.body.toString()).toBe(PAGE);
  });

  it('keeps only the declared bytes when an origin sends more than its Content-Length', async () => {
    const r = await fetchOutcome(proxy.port, '/long-content-length');
    expect(r.body.toString()).toContain('twenty bytes');
    expect(r.body.toString()).not.toContain('junk');
  });

  it('frees the rewriter of aborted responses: WASM memory flat over 600 aborts after warm-up (10,000 in bench/)', { timeout: 120_000 }, async () => {
    const abort = () =>
      new Promise<void>((done) => {
        const req = http.get({ host: '127.0.0.1', port: proxy.port, path: `/page?${Math.random()}` }, (res) => {
          res.once('data', () => {
            req.destroy();
            done();
          });
          res.on('error', () => done());
        });
        req.on('error', () => done());
      });
    const run = async (n: number) => {
      for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: 20 }, abort));
    };
    await run(300);
    await new Promise((r) => setTimeout(r, 300));
    const before = WasmHtmlEngine.memoryBytes();
    await run(600);
    await new Promise((r) => setTimeout(r, 300));
    const after = WasmHtmlEngine.memoryBytes();
    console.log(`WASM memory: ${(before / 1048576).toFixed(1)} MB after warm-up, ${(after / 1048576).toFixed(1)} MB after 600 more aborts`);
    expect(after - before).toBeLessThanOrEqual(1024 * 1024);
  });
});
