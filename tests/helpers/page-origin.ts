import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One response of a PageOrigin: bytes as given, in chunks of `chunkBytes` when set (split multi-byte characters). */
export interface ServedPage {
  contentType: string;
  body: Uint8Array | string;
  status?: number;
  /** More response headers. */
  headers?: Record<string, string>;
  chunkBytes?: number;
}

/**
 * A test origin on 127.0.0.1 that serves given bytes per path (any Host), and logs each request's
 * Host and path. For pages the shared test origin (origin.ts) does not have.
 */
export interface PageOrigin {
  url: string;
  requests: { host: string; path: string }[];
  close(): Promise<void>;
}

export async function startPageOrigin(pages: Map<string, ServedPage> | ((host: string, path: string) => ServedPage | undefined)): Promise<PageOrigin> {
  const requests: { host: string; path: string }[] = [];
  const lookup = typeof pages === 'function' ? pages : (_host: string, path: string) => pages.get(path);
  const server = http.createServer((req, res) => {
    const host = String(req.headers.host ?? '');
    const path = req.url ?? '/';
    requests.push({ host, path });
    const page = lookup(host, path);
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const body = typeof page.body === 'string' ? Buffer.from(page.body, 'utf8') : Buffer.from(page.body);
    res.writeHead(page.status ?? 200, { 'content-type': page.contentType, ...page.headers });
    if (!page.chunkBytes) {
      res.end(body);
      return;
    }
    let at = 0;
    const step = page.chunkBytes;
    const next = () => {
      if (at >= body.length) return void res.end();
      const part = body.subarray(at, at + step);
      at += step;
      if (res.write(part)) setImmediate(next);
      else res.once('drain', next);
    };
    next();
  });
  // Longer than any client keeps an idle connection: a connection closed under a reusing client is a spurious 502.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
