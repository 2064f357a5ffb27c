import type { OriginFetch, OriginRequest, OriginResponse } from '../proxy/origin-fetch.ts';
import { fetchOverSocket } from './http1.ts';

/**
 * The Worker's origin client. Normally the runtime's fetch(): redirects returned (`redirect: 'manual'`),
 * bodies decoded. Workers' fetch decodes gzip and br itself but leaves Content-Encoding (and the
 * encoded Content-Length) in place; deflate it does not decode at all, so that is done here.
 *
 * fetch() always sends the Host of the URL it connects to (it ignores a Host header; Cloudflare's edge
 * refuses one for another zone). So when an origin's `upstream` is on another host, the request goes
 * over a TCP socket instead (http1.ts), which sends the origin's Host like the Node adapter does.
 */
const DECODED_BY_RUNTIME = new Set(['gzip', 'br']);

export function createWorkerOriginFetch(): OriginFetch {
  return async (req: OriginRequest): Promise<OriginResponse> => {
    const target = new URL(req.url);
    const host = req.headers.get('host');
    if (host !== null && host.toLowerCase() !== target.host.toLowerCase()) return fetchOverSocket(req, target, host);
    return fetchNative(req);
  };
}

async function fetchNative(req: OriginRequest): Promise<OriginResponse> {
  const headers = new Headers(req.headers);
  headers.delete('host');
  const res = await fetch(req.url, { method: req.method, headers, body: req.body, redirect: 'manual', signal: req.signal });
  const out = new Headers(res.headers);
  let body = res.body as ReadableStream<Uint8Array> | null;
  const encoding = out.get('content-encoding')?.trim().toLowerCase();
  if (encoding && DECODED_BY_RUNTIME.has(encoding)) {
    out.delete('content-encoding');
    out.delete('content-length');
  } else if (encoding === 'deflate' && res.status !== 206) {
    if (body) body = body.pipeThrough(new DecompressionStream('deflate'));
    out.delete('content-encoding');
    out.delete('content-length');
  }
  const empty = req.method === 'HEAD' || res.status === 204 || res.status === 304;
  if (empty && body) {
    body.cancel().catch(() => {});
    body = null;
  }
  return { status: res.status, headers: out, body };
}
