/**
 * The long soak (issue 7; the short one is tests/integration/soak.test.ts): 10,000 aborted requests,
 * then mixed load against an origin that randomly fails, resets and stalls, on 127.0.0.1, bounded in
 * time. Reports RSS and WASM memory after warm-up and at the end, crashes, wrong bodies and errors.
 *
 *   node --import tsx bench/soak.ts [--aborts N] [--mixed N] [--engine fast|lol-html]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { validateConfig } from '../src/config/validate.ts';
import { startNodeServer } from '../src/node/server.ts';
import { WasmHtmlEngine } from '../src/node/wasm-html-engine.ts';
import { testSiteConfig } from '../tests/helpers/mirror.ts';

const { values } = parseArgs({ options: { aborts: { type: 'string', default: '10000' }, mixed: { type: 'string', default: '10000' }, engine: { type: 'string', default: 'fast' } } });
const ABORTS = Number(values.aborts);
const MIXED = Number(values.mixed);
const DEADLINE = Date.now() + 15 * 60_000;

let chaos = false;
let seed = 7;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const page = (n: number) =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${n}</title></head><body>${Array.from({ length: 400 }, (_, i) => `<p><a href="https://www.epochtimes.com/gb/${n}/${i}.htm">第${i}篇</a><img src="//i.epochtimes.com/${n}/${i}.jpg"></p>`).join('')}</body></html>`;

const origin = http.createServer((req, res) => {
  const roll = random();
  if (chaos && roll < 0.03) return req.socket.destroy();
  if (chaos && roll < 0.06) return res.writeHead(503).end('busy');
  const n = Number(/(\d+)/.exec(req.url ?? '')?.[1] ?? 0) % 50;
  const body = Buffer.from(page(n));
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  if (chaos && roll < 0.09) return void res.write(body.subarray(0, body.length >> 1), () => req.socket.destroy());
  res.end(body);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const upstream = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const result = validateConfig({ server: { accessLog: 'off', originIdleTimeout: 1, htmlEngine: values.engine as 'fast' }, cache: { enabled: false }, sites: [testSiteConfig(upstream)] });
if (!result.ok) throw new Error(result.errors.join('\n'));
const proxy = await startNodeServer({ config: result.config, port: 0, accessLog: false });

function get(path: string, abort: boolean): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port: proxy.port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        if (abort) {
          req.destroy();
          done({ status: res.statusCode!, body: Buffer.alloc(0), complete: false });
        }
      });
      res.on('end', () => done({ status: res.statusCode!, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => done({ status: res.statusCode!, body: Buffer.alloc(0), complete: false }));
    });
    req.on('error', () => done({ status: 0, body: Buffer.alloc(0), complete: false }));
  });
}

async function run(total: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < total && Date.now() < DEADLINE) await one(next++);
  }));
}
const mb = (n: number) => (n / 1048576).toFixed(1);
const memory = () => ({ rss: process.memoryUsage().rss, wasm: WasmHtmlEngine.memoryBytes() });

const reference = new Map<number, Buffer>();
for (let n = 0; n < 50; n++) reference.set(n, (await get(`/p/${n}`, false)).body);

const t0 = Date.now();
await run(1000, async (i) => void (await get(`/p/${i}`, true)));
globalThis.gc?.();
const afterWarmup = memory();
await run(ABORTS, async (i) => void (await get(`/p/${i}`, true)));
globalThis.gc?.();
const afterAborts = memory();
console.log(`aborts: ${ABORTS} aborted responses in ${((Date.now() - t0) / 1000).toFixed(0)} s; RSS ${mb(afterWarmup.rss)} → ${mb(afterAborts.rss)} MB, WASM ${mb(afterWarmup.wasm)} → ${mb(afterAborts.wasm)} MB`);

chaos = true;
const counts = { ok: 0, wrong: 0, errorStatus: 0, incomplete: 0, aborted: 0, failed: 0 };
const t1 = Date.now();
await run(MIXED, async (i) => {
  const n = i % 50;
  const abort = random() < 0.2;
  const r = await get(`/p/${n}`, abort);
  if (abort) counts.aborted++;
  else if (r.status === 200 && r.complete) counts[r.body.equals(reference.get(n)!) ? 'ok' : 'wrong']++;
  else if (r.status >= 500) counts.errorStatus++;
  else if (r.status === 0) counts.failed++;
  else counts.incomplete++;
});
globalThis.gc?.();
const end = memory();
console.log(`mixed: ${MIXED} requests in ${((Date.now() - t1) / 1000).toFixed(0)} s with injected resets (3%), 503s (3%), mid-body deaths (3%): ${JSON.stringify(counts)}; RSS ${mb(afterAborts.rss)} → ${mb(end.rss)} MB, WASM ${mb(afterAborts.wasm)} → ${mb(end.wasm)} MB; crashes: 0 (process alive)`);
await proxy.close();
origin.closeAllConnections();
origin.close();
process.exit(counts.wrong === 0 ? 0 : 1);
