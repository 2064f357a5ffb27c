import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateSync, gzipSync } from 'node:zlib';

/**
 * A local stand-in for NTDTV (新唐人), for config/examples/ntdtv.json, `edgemirror init` and the tests:
 * one node:http server answering, by Host, for
 *   www.ntdtv.com    pages: /gb/ (home), /gb/china.html (channel), /gb/2021/03/02/a103012345.html and
 *                    /gb/2021/03/03/a103012399.html (articles), /b5/ (traditional Chinese), /assets/ntd.css,
 *                    /assets/ntd.js; / and ntdtv.com/* redirect to https://www.ntdtv.com/gb/…
 *   i.ntdtv.com      images: any /….jpg or /….png is a generated PNG (size from a "-WxH" suffix); a logo SVG
 *   video.ntdtv.com  /posters/….jpg (PNG) and /mp4/….mp4 (placeholder bytes, Range supported)
 * The pages are made up (演示内容) and structured unlike the Epoch Times demo: dated article paths
 * ending in .html, images on i.ntdtv.com, a <video> whose poster and source are on video.ntdtv.com,
 * lazy images, an ad slot, and one third-party embed (www.youtube.com) that a mirror leaves alone.
 * Whether the real site uses exactly these hosts was not verified: `edgemirror init` finds the real ones.
 *
 *   npm run demo:ntdtv-origin -- [--port N] [--host H] [--verbose]   (default 127.0.0.1:9100)
 */
export interface NtdtvOrigin {
  /** e.g. http://127.0.0.1:9100 — use it as `upstream` of every NTDTV origin. */
  url: string;
  port: number;
  /** Requests seen, as "GET www.ntdtv.com/gb/ 200". */
  requests: string[];
  close(): Promise<void>;
}

export const NTDTV_ARTICLE = '/gb/2021/03/02/a103012345.html';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

const esc = (t: string) => t.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const ARTICLES = [
  {
    path: '/gb/2021/03/02/a103012345.html',
    title: '江南小城的夜市重新开张',
    date: '2021-03-02 09:15',
    lead: '停业半年的河畔夜市周末重新开张，摊主们说，客流已恢复到往年的七成。',
    image: 'https://i.ntdtv.com/assets/uploads/2021/03/a103012345-1200x675.jpg',
    thumb: '//i.ntdtv.com/assets/uploads/2021/03/a103012345-320x180.jpg',
  },
  {
    path: '/gb/2021/03/03/a103012399.html',
    title: '山区学校收到一批新书',
    date: '2021-03-03 14:40',
    lead: '一所山区小学的图书室收到两千多册捐赠图书，孩子们排队借书。',
    image: 'https://i.ntdtv.com/assets/uploads/2021/03/a103012399-1200x675.jpg',
    thumb: '//i.ntdtv.com/assets/uploads/2021/03/a103012399-320x180.jpg',
  },
];

function layout(title: string, main: string, canonical: string): string {
  return `<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} - 新唐人电视台（演示）</title>
<link rel="canonical" href="https://www.ntdtv.com${canonical}">
<link rel="stylesheet" href="/assets/ntd.css">
<link rel="icon" href="https://i.ntdtv.com/assets/themes/ntd/images/favicon.png">
<meta property="og:image" content="https://i.ntdtv.com/assets/uploads/2021/03/og-ntd-1200x630.jpg">
<script src="https://www.ntdtv.com/assets/ntd.js" defer></script>
</head>
<body class="ntd">
<div class="top-bar"><a href="https://www.ntdtv.com/gb/">简体</a> · <a href="https://www.ntdtv.com/b5/">正體</a></div>
<header class="masthead">
  <a class="logo" href="/gb/"><img src="https://i.ntdtv.com/assets/themes/ntd/images/logo.svg" alt="新唐人" width="180" height="48"></a>
  <ul class="menu"><li><a href="/gb/">首页</a></li><li><a href="/gb/china.html">中国</a></li><li><a href="http://www.ntdtv.com/gb/2021/03/03/a103012399.html">教育</a></li></ul>
</header>
<div class="ad-slot" id="ad-top">广告位（演示）</div>
<div class="wrap">
${main}
</div>
<footer class="site-footer">新唐人电视台 · 演示站点，内容纯属虚构 · <a href="https://www.ntd.com/">NTD English</a></footer>
</body>
</html>
`;
}

function home(): string {
  const items = ARTICLES.map(
    (a) => `  <li class="post"><a href="https://www.ntdtv.com${a.path}"><img class="lazy" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="${a.thumb}" alt=""></a>
    <h3><a href="${a.path}">${esc(a.title)}</a></h3><span class="time">${a.date}</span></li>`,
  ).join('\n');
  return layout(
    '首页',
    `<section class="live">
  <h2>直播</h2>
  <video controls preload="none" width="640" height="360" poster="https://video.ntdtv.com/posters/live-640x360.jpg">
    <source src="https://video.ntdtv.com/mp4/live-480p.mp4" type="video/mp4">
  </video>
</section>
<section class="headlines">
  <h2>要闻</h2>
  <ul class="post-list">
${items}
  </ul>
</section>
<section class="embed">
  <h2>精选视频</h2>
  <iframe width="560" height="315" src="https://www.youtube.com/embed/ntd-demo-clip" title="YouTube" allowfullscreen></iframe>
</section>`,
    '/gb/',
  );
}

function channel(): string {
  const items = ARTICLES.map((a) => `  <li><img src="${a.thumb}" width="160" height="90" alt=""> <a href="${a.path}">${esc(a.title)}</a> <span class="time">${a.date}</span><p>${esc(a.lead)}</p></li>`).join('\n');
  return layout('中国', `<h1 class="channel-title">中国</h1>\n<ul class="channel-list">\n${items}\n</ul>`, '/gb/china.html');
}

function article(a: (typeof ARTICLES)[number], i: number): string {
  const other = ARTICLES[(i + 1) % ARTICLES.length]!;
  const base = a.image.replace(/-1200x675\.jpg$/, '');
  return layout(
    a.title,
    `<article class="post-main">
  <h1 class="article_title">${esc(a.title)}</h1>
  <div class="article_info"><span class="time">${a.date}</span> 【新唐人（演示）】</div>
  <figure class="featured_image">
    <img src="${a.image}" srcset="${base}-600x338.jpg 600w, ${a.image} 1200w" sizes="(max-width: 600px) 600px, 1200px" alt="${esc(a.title)}">
    <figcaption>示意图（演示图片）</figcaption>
  </figure>
  <div class="post_content">
    <p>${esc(a.lead)}</p>
    <p>视频报道：</p>
    <video controls preload="none" width="640" height="360" poster="https://video.ntdtv.com/posters/${a.path.split('/').pop()!.replace('.html', '')}-640x360.jpg">
      <source src="//video.ntdtv.com/mp4/${a.path.split('/').pop()!.replace('.html', '')}-480p.mp4" type="video/mp4">
    </video>
    <div class="ad-slot">广告（演示）</div>
    <p>相关阅读：<a href="${other.path}">${esc(other.title)}</a>（<a href="https://www.ntdtv.com/b5${other.path.slice(3)}">正體</a>）</p>
  </div>
</article>`,
    a.path,
  );
}

const CSS = `body.ntd { margin: 0; font: 16px/1.6 "PingFang SC", "Microsoft YaHei", sans-serif; color: #222; }
.top-bar { background: #0b2f5b; color: #fff; padding: 2px 12px; font-size: 13px; }
.top-bar a { color: #fff; }
.masthead { display: flex; align-items: center; gap: 24px; padding: 8px 12px; background: url("https://i.ntdtv.com/assets/themes/ntd/images/header-bg.png") repeat-x; }
.menu { display: flex; gap: 16px; list-style: none; margin: 0; padding: 0; }
.wrap { max-width: 960px; margin: 0 auto; padding: 0 12px; }
.ad-slot { background: #fee; text-align: center; padding: 8px; }
.post-list { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
.post img, .featured_image img { width: 100%; height: auto; }
.time { color: #888; font-size: 13px; }
.site-footer { margin-top: 24px; padding: 12px; background: #eee; text-align: center; font-size: 13px; }
`;

const JS = `// Lazy images: data-src → src (as the real site's theme does, in spirit).
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('img.lazy[data-src]').forEach(function (img) { img.src = img.getAttribute('data-src'); });
});
var NTD_CONFIG = { "imageHost": "https:\\/\\/i.ntdtv.com\\/assets\\/uploads\\/", "home": "https://www.ntdtv.com/gb/" };
`;

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="48" viewBox="0 0 180 48"><rect width="180" height="48" rx="6" fill="#0b2f5b"/><text x="90" y="32" font-size="22" fill="#fff" text-anchor="middle" font-family="sans-serif">新唐人 DEMO</text></svg>`;

// ── images: a small PNG encoder (RGB, no filtering) ──
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  let c = 0xffffffff;
  for (const b of Buffer.concat([head.subarray(4), data])) c = CRC[(c ^ b) & 0xff]! ^ (c >>> 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE((c ^ 0xffffffff) >>> 0, 0);
  return Buffer.concat([head, data, tail]);
}

/** A diagonal two-colour gradient whose hue depends on `seed`. */
function picture(width: number, height: number, seed: string): Buffer {
  let hash = 7;
  for (const ch of seed) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const a = [40 + (hash % 120), 60 + ((hash >> 8) % 120), 90 + ((hash >> 16) % 120)];
  const b = [230 - (hash % 60), 200 - ((hash >> 4) % 80), 150 - ((hash >> 12) % 100)];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let i = 0;
  for (let y = 0; y < height; y++) {
    raw[i++] = 0;
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      for (let k = 0; k < 3; k++) raw[i++] = Math.round(a[k]! * (1 - t) + b[k]! * t);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

function image(pathname: string): Reply {
  if (!/\.(jpe?g|png)$/i.test(pathname)) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found\n' };
  const size = /-(\d{2,4})x(\d{2,4})\.\w+$/.exec(pathname);
  const width = Math.min(Number(size?.[1] ?? 320), 1600);
  const height = Math.min(Number(size?.[2] ?? 180), 1200);
  return { status: 200, headers: { 'content-type': 'image/png', 'cache-control': 'public, max-age=86400' }, body: picture(width, height, pathname) };
}

/** Placeholder "video" bytes (not a playable file): enough to see Range requests pass through the mirror. */
const VIDEO = Buffer.alloc(64 * 1024, 'NTD-DEMO-VIDEO ');

function video(req: IncomingMessage, pathname: string): Reply {
  if (pathname.startsWith('/posters/')) return image(pathname);
  if (!pathname.startsWith('/mp4/') || !pathname.endsWith('.mp4')) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found\n' };
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
  const headers = { 'content-type': 'video/mp4', 'accept-ranges': 'bytes', 'cache-control': 'public, max-age=3600' };
  if (!range) return { status: 200, headers, body: VIDEO };
  const start = Number(range[1]);
  const end = Math.min(range[2] ? Number(range[2]) : VIDEO.length - 1, VIDEO.length - 1);
  if (start > end) return { status: 416, headers: { 'content-range': `bytes */${VIDEO.length}` } };
  return { status: 206, headers: { ...headers, 'content-range': `bytes ${start}-${end}/${VIDEO.length}` }, body: VIDEO.subarray(start, end + 1) };
}

function html(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
}

function www(pathname: string, search: string): Reply {
  if (pathname === '/') return { status: 302, headers: { location: 'https://www.ntdtv.com/gb/' } };
  if (pathname === '/gb/' || pathname === '/gb/index.html') return html(200, home());
  if (pathname === '/gb') return { status: 301, headers: { location: '/gb/' + search } };
  if (pathname === '/gb/china.html') return html(200, channel());
  const i = ARTICLES.findIndex((a) => a.path === pathname);
  if (i >= 0) return html(200, article(ARTICLES[i]!, i));
  if (pathname === '/b5/' || pathname.startsWith('/b5/')) return html(200, layout('正體', '<h1>正體中文版（演示）</h1><p>請使用簡體版。</p>', pathname));
  if (pathname === '/assets/ntd.css') return { status: 200, headers: { 'content-type': 'text/css; charset=utf-8' }, body: CSS };
  if (pathname === '/assets/ntd.js') return { status: 200, headers: { 'content-type': 'application/javascript; charset=utf-8' }, body: JS };
  return html(404, layout('找不到网页', '<h1>404</h1><p>找不到网页。<a href="https://www.ntdtv.com/gb/">回首页</a></p>', pathname));
}

function handle(req: IncomingMessage): Reply {
  const host = String(req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' } };
  const url = new URL(req.url ?? '/', 'http://stand-in.invalid');
  if (host === 'www.ntdtv.com') return www(url.pathname, url.search);
  if (host === 'ntdtv.com') return { status: 301, headers: { location: `https://www.ntdtv.com${url.pathname === '/' ? '/gb/' : url.pathname}${url.search}` } };
  if (host === 'i.ntdtv.com') {
    if (url.pathname.endsWith('/logo.svg')) return { status: 200, headers: { 'content-type': 'image/svg+xml' }, body: LOGO };
    return image(url.pathname);
  }
  if (host === 'video.ntdtv.com') return video(req, url.pathname);
  return {
    status: 421,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: `NTDTV stand-in: answers only for Host www.ntdtv.com, ntdtv.com, i.ntdtv.com and video.ntdtv.com (got ${JSON.stringify(host)}).\n`,
  };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'x-stand-in': 'ntdtv', ...reply.headers };
  let body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  if (body && /^(text\/|application\/javascript)/.test(headers['content-type'] ?? '')) {
    headers.vary = 'Accept-Encoding';
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && body.length > 512) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    headers['cache-control'] ??= 'public, max-age=60';
  }
  headers['content-length'] = String(body?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startNtdtvOrigin(port = 0, options: { host?: string; log?: (line: string) => void } = {}): Promise<NtdtvOrigin> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let reply: Reply;
    try {
      reply = handle(req);
    } catch (err) {
      reply = { status: 500, headers: { 'content-type': 'text/plain' }, body: `stand-in error: ${(err as Error).message}\n` };
    }
    const line = `${req.method} ${req.headers.host ?? '-'}${req.url} ${reply.status}`;
    requests.push(line);
    if (requests.length > 1000) requests.shift();
    options.log?.(line);
    send(req, res, reply);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// `npm run demo:ntdtv-origin`: the stand-in alone (for `edgemirror init --upstream`).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const USAGE = `Usage: npm run demo:ntdtv-origin -- [--port N] [--host H] [--verbose]
  --port N    port (default 9100; 0 picks a free one)
  --host H    address to bind (default 127.0.0.1)
  --verbose   log every request`;
  let args;
  try {
    args = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = Number(args.port ?? '9100');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid --port ${JSON.stringify(args.port)}\n${USAGE}`);
    process.exit(2);
  }
  const origin = await startNtdtvOrigin(port, { host: args.host, log: args.verbose ? (l) => console.log(`  ${l}`) : undefined }).catch((err: Error) => {
    console.error(`could not start the NTDTV stand-in on port ${port}: ${err.message}`);
    process.exit(1);
  });
  console.log(`NTDTV stand-in on ${origin.url} (answers for Host www.ntdtv.com, i.ntdtv.com, video.ntdtv.com)
Next, in another terminal:
  npx edgemirror init https://www.ntdtv.com --upstream ${origin.url} --out my-ntdtv.json
  npm start -- --config my-ntdtv.json
Ctrl-C to stop.`);
  const stop = () => origin.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
