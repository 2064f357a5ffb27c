import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeGbk } from './gbk.ts';
import { renderImage } from './images.ts';

/**
 * The demo origin: one node:http server that plays both www.epochtimes.com (pages from demo/site/www/)
 * and i.epochtimes.com (images generated in demo/images.ts), chosen by the Host header (port ignored).
 * The mirror reaches it through `upstream` and still sends the public Host, exactly as with the real site.
 *
 * Conventions in demo/site/www/:
 *   dir/            → dir/index.htm
 *   name.gbk.htm    → stored as UTF-8, served at name.htm encoded as GBK with no charset in the header
 * Dynamic: /gb/search.htm?q= (echoes the query), /gb/latest (302 to an absolute origin URL), / (302 to /gb/).
 */
export interface DemoOrigin {
  /** e.g. http://127.0.0.1:41234 — use it as `upstream` for both origins. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface DemoOriginOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Called with one line per request, e.g. "GET www.epochtimes.com/gb/ → 200". */
  log?: (line: string) => void;
}

const SITE_ROOT = fileURLToPath(new URL('./site/www/', import.meta.url));
const LATEST = 'https://www.epochtimes.com/gb/21/3/2/n12784950.htm';

const TYPES: Record<string, string> = {
  '.htm': 'text/html; charset=UTF-8',
  '.html': 'text/html; charset=UTF-8',
  '.css': 'text/css; charset=UTF-8',
  '.js': 'application/javascript; charset=UTF-8',
  '.xml': 'application/rss+xml; charset=UTF-8',
};

/** What the search page searches. */
const ARTICLES = [
  { url: 'https://www.epochtimes.com/gb/21/3/2/n12784933.htm', title: '青河市图书馆新馆正式开放', summary: '新馆藏书约三十万册，周末开放至晚九点。' },
  { url: 'https://www.epochtimes.com/gb/21/3/2/n12784950.htm', title: '社区春季花市周末开幕', summary: '六十多个摊位，另有园艺讲座和亲子活动，地点在图书馆广场。' },
  { url: 'http://epochtimes.com/gb/21/3/3/n12790105.htm', title: '本周天气：回暖伴有小雨', summary: '周四夜间到周五有小雨，周末转晴。' },
];

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, main: string, query = ''): string {
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} | 青河新闻网（演示站点）</title>
<link rel="stylesheet" href="https://www.epochtimes.com/assets/style.css">
</head>
<body>
<header class="site-header">
  <a href="https://www.epochtimes.com/gb/"><img class="logo" src="https://i.epochtimes.com/assets/logo.svg" alt="青河新闻网" width="160" height="40"></a>
  <nav><a href="/gb/">首页</a> <a href="/gb/nsc412.htm">本地新闻</a></nav>
  <form action="https://www.epochtimes.com/gb/search.htm" method="get">
    <input type="search" name="q" value="${escapeHtml(query)}" placeholder="搜索本站" aria-label="搜索"> <button type="submit">搜索</button>
  </form>
</header>
<main>
${main}
</main>
<div class="site-footer">青河新闻网 · 演示内容，纯属虚构</div>
</body>
</html>
`;
}

function html(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/html; charset=UTF-8' }, body };
}

function notFound(): Reply {
  return html(404, page('找不到该页面', `<h1>404 找不到该页面</h1>\n<p>您要找的页面不存在或已被移除。<a href="https://www.epochtimes.com/gb/">返回首页</a></p>`));
}

function search(q: string): Reply {
  const query = q.trim();
  let main = `<h1>搜索</h1>\n`;
  if (!query) {
    main += `<p>请输入关键词，例如 <a href="/gb/search.htm?q=%E5%9B%BE%E4%B9%A6%E9%A6%86">图书馆</a>。</p>`;
  } else {
    const hits = ARTICLES.filter((a) => a.title.includes(query) || a.summary.includes(query));
    main += `<p>搜索：<strong class="query">${escapeHtml(query)}</strong>，共 ${hits.length} 条结果。</p>\n<ul>\n`;
    for (const a of hits) main += `  <li><a href="${a.url}">${escapeHtml(a.title)}</a><br><span class="byline">${escapeHtml(a.summary)}</span></li>\n`;
    main += `</ul>`;
  }
  return html(200, page(query ? `搜索：${query}` : '搜索', main, query));
}

async function isFile(file: string): Promise<'file' | 'dir' | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : null;
  } catch {
    return null;
  }
}

async function serveWww(url: URL): Promise<Reply> {
  const pathname = url.pathname;
  if (pathname === '/') return { status: 302, headers: { location: '/gb/' } };
  if (pathname === '/gb/latest') return { status: 302, headers: { location: LATEST, 'content-type': 'text/html; charset=UTF-8' }, body: `<a href="${LATEST}">${LATEST}</a>\n` };
  if (pathname === '/gb/search.htm') return search(url.searchParams.get('q') ?? '');

  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return html(400, page('请求无效', '<h1>400 请求无效</h1>'));
  }
  const segments = decoded.split('/');
  if (decoded.includes('\0') || decoded.includes('\\') || segments.includes('..') || segments.includes('.') || decoded.endsWith('.gbk.htm')) return notFound();
  const file = path.join(SITE_ROOT, decoded.endsWith('/') ? decoded + 'index.htm' : decoded);
  if (!file.startsWith(SITE_ROOT)) return notFound();

  const kind = await isFile(file);
  if (kind === 'dir') return { status: 301, headers: { location: pathname + '/' + url.search } };
  if (kind === 'file') {
    const type = TYPES[path.extname(file).toLowerCase()];
    if (!type) return notFound();
    return { status: 200, headers: { 'content-type': type }, body: await readFile(file) };
  }
  if (file.endsWith('.htm')) {
    const gbkSource = file.slice(0, -4) + '.gbk.htm';
    if ((await isFile(gbkSource)) === 'file') {
      // The charset is only in the page's <meta>, as on the site's older pages.
      return { status: 200, headers: { 'content-type': 'text/html' }, body: encodeGbk(await readFile(gbkSource, 'utf8')) };
    }
  }
  return notFound();
}

function serveImages(url: URL): Reply {
  const image = renderImage(url.pathname);
  if (!image) return { status: 404, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: 'image not found\n' };
  return { status: 200, headers: { 'content-type': image.contentType, 'cache-control': 'public, max-age=86400' }, body: image.body };
}

async function handle(req: IncomingMessage): Promise<Reply> {
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=UTF-8' }, body: 'method not allowed\n' };
  }
  const url = new URL(req.url ?? '/', 'http://demo.invalid');
  if (host === 'www.epochtimes.com' || host === 'epochtimes.com') return serveWww(url);
  if (host === 'i.epochtimes.com') return serveImages(url);
  return {
    status: 421,
    headers: { 'content-type': 'text/plain; charset=UTF-8' },
    body:
      `This is the edgemirror demo origin. It answers only for Host: www.epochtimes.com, epochtimes.com and i.epochtimes.com (got ${JSON.stringify(host)}).\n` +
      `Open the mirror instead (npm run demo prints its URL), or: curl -H 'Host: www.epochtimes.com' <this URL>/gb/\n`,
  };
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json|rss\+xml|xml)|image\/svg\+xml)/;

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'x-demo-origin': 'edgemirror demo', ...reply.headers };
  let body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  if (body && reply.status === 200 && !headers['cache-control']) headers['cache-control'] = 'public, max-age=60';
  if (body && COMPRESSIBLE.test(headers['content-type'] ?? '')) {
    // Compress like the real site does; the mirror must decode before rewriting.
    headers.vary = 'Accept-Encoding';
    if (/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? '')) && body.length > 256) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
  }
  if (body) headers['content-length'] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startDemoOrigin(port = 0, options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(req)
      .catch((err: unknown): Reply => {
        console.error(`demo origin: ${(err as Error)?.stack ?? err}`);
        return { status: 500, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: 'internal error\n' };
      })
      .then((reply) => {
        options.log?.(`${req.method} ${req.headers.host ?? '-'}${req.url} → ${reply.status}`);
        send(req, res, reply);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
