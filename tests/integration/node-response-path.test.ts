import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, TARGET, testSiteConfig, type MirrorProxy } from '../helpers/mirror.ts';

/**
 * The Node adapter's response path (src/node/app.ts, src/node/node-streams.ts): small bodies that are
 * complete at once go out with a Content-Length in one piece; everything else still streams, and a body
 * that fails still fails visibly. Runs on Node only: the Worker has its own adapter.
 */
const SCRIPT = 'var api = "https://www.epochtimes.com/gb/api/counter";\n';
const LARGE = Buffer.alloc(200 * 1024, 'a');
/** ~3 KB: over the compression threshold, under the one-piece limit. */
const MEDIUM = SCRIPT.repeat(50);

describe.skipIf(TARGET !== 'node')('Node response path', () => {
  let origin: http.Server;
  let proxy: MirrorProxy;
  let releaseSlow: () => void = () => {};

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/small.js') {
        res.writeHead(200, { 'content-type': 'application/javascript', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] });
        return void res.end(SCRIPT);
      }
      if (path === '/one-cookie.js') {
        res.writeHead(200, { 'content-type': 'application/javascript', 'set-cookie': 'a=1; Path=/' });
        return void res.end(SCRIPT);
      }
      if (path === '/medium.js') {
        res.writeHead(200, { 'content-type': 'application/javascript', etag: '"v1"' });
        return void res.end(MEDIUM);
      }
      if (path === '/large.bin') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LARGE.length });
        return void res.end(LARGE);
      }
      if (path === '/slow.txt') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part\n');
        releaseSlow = () => res.end('second part\n');
        return;
      }
      if (path === '/broken.bin') {
        // Promises 1,000 bytes, sends 10, then the connection dies.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
        res.write('0123456789');
        setTimeout(() => res.destroy(), 50);
        return;
      }
      if (path === '/broken-at-once.bin') {
        // The same, with the break in the same moment as the bytes: inside the adapter's look-ahead.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
        res.write('0123456789', () => res.destroy());
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    proxy = await startProxy({ sites: [testSiteConfig(upstream)] });
  });
  afterAll(async () => {
    await proxy?.close();
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; aborted: boolean }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: proxy.port, path, agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        let aborted = false;
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('aborted', () => (aborted = true));
        res.on('error', () => (aborted = true));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted: aborted || !res.complete }));
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    });
  }

  it('sends a small complete body with its exact Content-Length, rewritten', async () => {
    const r = await get('/one-cookie.js');
    expect(r.status).toBe(200);
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.body.toString()).not.toContain('https://www.epochtimes.com');
    expect(r.body.toString()).toContain('/gb/api/counter');
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/']);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('keeps every Set-Cookie of a small response separate', async () => {
    const r = await get('/small.js');
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(r.body.toString()).toContain('/gb/api/counter');
  });

  it.each([
    ['br', (b: Buffer) => zlib.brotliDecompressSync(b)],
    ['gzip', (b: Buffer) => zlib.gunzipSync(b)],
    ['deflate', (b: Buffer) => zlib.inflateSync(b)],
  ] as const)('compresses a small complete body in one piece (%s), with its compressed length', async (encoding, decode) => {
    const r = await get('/medium.js', { 'accept-encoding': encoding });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe(encoding);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.headers.vary).toMatch(/accept-encoding/i);
    expect(r.headers.etag).toBe('W/"v1"');
    const text = decode(r.body).toString();
    expect(text).not.toContain('https://www.epochtimes.com');
    expect(text.split('/gb/api/counter').length - 1).toBe(50);
    expect(r.body.length).toBeLessThan(text.length);
  });

  it('passes a body larger than the inline limit through whole', async () => {
    const r = await get('/large.bin');
    expect(r.status).toBe(200);
    expect(r.aborted).toBe(false);
    expect(r.body.equals(LARGE)).toBe(true);
  });

  it('still streams: the first part arrives while the origin holds the rest', async () => {
    const first = await new Promise<{ text: string; rest: Promise<string> }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: proxy.port, path: '/slow.txt', agent: false }, (res) => {
        let text = '';
        let finish: (t: string) => void = () => {};
        const rest = new Promise<string>((r) => (finish = r));
        let sent = false;
        res.on('data', (d: Buffer) => {
          text += d.toString();
          if (!sent && text.includes('first part')) {
            sent = true;
            resolve({ text, rest });
          }
        });
        res.on('end', () => finish(text));
      });
      req.on('error', reject);
      setTimeout(() => reject(new Error('the first part did not arrive while the origin was waiting')), 5000);
    });
    expect(first.text).not.toContain('second part');
    releaseSlow();
    expect(await first.rest).toBe('first part\nsecond part\n');
  });

  it.each(['/broken.bin', '/broken-at-once.bin'])('ends a body that breaks off at the origin (%s) as a failed transfer, never a complete 200', async (path) => {
    for (let i = 0; i < 5; i++) {
      const r = await get(path);
      // Either an error status (it broke before anything was sent: 502 from the adapter's look-ahead, or
      // 500 from @hono/node-server's own first reads) or a cut transfer.
      if (r.status === 200) expect(r.aborted).toBe(true);
      else expect([500, 502]).toContain(r.status);
      expect(r.body.length).toBeLessThan(1000);
    }
  });
});
