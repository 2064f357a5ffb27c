/**
 * The benchmark origin, run as its own process: `node --import tsx bench/origin.ts [--port N]`.
 * Plays www.epochtimes.com, i.epochtimes.com and www.bbc.com on 127.0.0.1 (routed by Host), serving prebuilt
 * buffers so the origin costs as little CPU as possible. Prints one JSON line when listening:
 * {"event":"listening","port":…,"pages":{…}}.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  ARTICLE_PATH,
  BIG_PATH,
  buildArticle,
  buildBigPage,
  buildDenseArticle,
  buildRealArticle,
  buildSlowPage,
  buildTinyScript,
  countOriginUrls,
  DENSE_PATH,
  loadRealPage,
  SLOW_DELAY_MS,
  SLOW_PATH,
  TINY_PATH,
} from './pages.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'real-path': { type: 'string' } } });

const article = buildArticle();
const real = buildRealArticle(undefined, values['real-path']);
const big = buildBigPage();
const slow = buildSlowPage();
const dense = buildDenseArticle();
const tiny = buildTinyScript();
const bbc = loadRealPage();
// A 1×1 PNG for anything on i.epochtimes.com.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const HTML = 'text/html; charset=utf-8';
const CACHEABLE = 'public, max-age=86400';

function sendBuffer(res: http.ServerResponse, body: Buffer, type: string, cacheControl: string, head: boolean): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': cacheControl });
  res.end(head ? undefined : body);
}

async function sendBig(res: http.ServerResponse, head: boolean): Promise<void> {
  res.writeHead(200, { 'Content-Type': HTML, 'Content-Length': big.totalBytes, 'Cache-Control': 'no-store' });
  if (head) return void res.end();
  let closed = false;
  res.once('close', () => (closed = true));
  const write = async (chunk: Buffer) => {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
  };
  await write(big.head);
  for (let i = 0; i < big.blocks && !closed; i++) await write(big.block);
  if (!closed) res.end(big.tail);
}

function sendSlow(res: http.ServerResponse, head: boolean): void {
  res.writeHead(200, { 'Content-Type': HTML, 'Cache-Control': 'no-store' });
  if (head) return void res.end();
  res.write(slow.first);
  const timer = setTimeout(() => res.end(slow.rest), SLOW_DELAY_MS);
  res.once('close', () => clearTimeout(timer));
}

const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const head = req.method === 'HEAD';
  req.resume();
  if (host === 'i.epochtimes.com') return sendBuffer(res, PNG, 'image/png', CACHEABLE, head);
  if (host === bbc.host) {
    if ((req.url ?? '/') === bbc.path) return sendBuffer(res, bbc.html, bbc.contentType, CACHEABLE, head);
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return void res.end('not found\n');
  }
  if (host !== 'www.epochtimes.com') {
    res.writeHead(421, { 'Content-Type': 'text/plain' });
    return void res.end(`unknown host ${host}\n`);
  }
  if (path === ARTICLE_PATH) return sendBuffer(res, article, HTML, CACHEABLE, head);
  if (path === real.path) return sendBuffer(res, real.html, HTML, CACHEABLE, head);
  if (path === DENSE_PATH) return sendBuffer(res, dense, HTML, CACHEABLE, head);
  if (path === TINY_PATH) return sendBuffer(res, tiny, 'application/javascript; charset=utf-8', CACHEABLE, head);
  if (path === SLOW_PATH) return sendSlow(res, head);
  if (path === BIG_PATH) return void sendBig(res, head).catch(() => res.destroy());
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const pages = {
    article: { path: ARTICLE_PATH, bytes: article.length },
    real: { path: real.path, title: real.title, bytes: real.html.length, contentBytes: real.contentBytes },
    dense: { path: DENSE_PATH, bytes: dense.length, originUrls: countOriginUrls(dense.toString('utf8')) },
    tiny: { path: TINY_PATH, bytes: tiny.length },
    bbc: { path: bbc.path, host: bbc.host, bytes: bbc.html.length, origins: bbc.origins },
    big: { path: BIG_PATH, bytes: big.totalBytes },
    slow: { path: SLOW_PATH, firstBytes: slow.first.length, restBytes: slow.rest.length, delayMs: SLOW_DELAY_MS },
  };
  process.stdout.write(JSON.stringify({ event: 'listening', port, pages }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
