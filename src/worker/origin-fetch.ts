import { MirrorError } from '../http/errors.ts';
import { hasNoMessageBody } from '../http/status.ts';
import { bodyKind } from '../proxy/pipeline.ts';
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
 *
 * Encodings: each client asks only for what it can decode (fetch(): gzip, deflate, br; the socket
 * client: gzip, deflate; workerd has no brotli DecompressionStream). An origin may still answer with
 * another one. A body the mirror does not rewrite (images, video…) then passes through encoded, with
 * its Content-Encoding, for the reader to decode; a body it rewrites is asked for again, once, as
 * identity (a request without a body only), and the reason is logged. If that fails too: 502.
 */
const DECODED_BY_RUNTIME = new Set(['gzip', 'br']);

export class UndecodableEncodingError extends MirrorError {
  constructor(encoding: string) {
    super('EM_UNDECODABLE_ENCODING', `the origin sent Content-Encoding ${encoding}, which the Worker cannot decode, for a body it must rewrite`);
    this.name = 'UndecodableEncodingError';
  }
}

export function createWorkerOriginFetch(log: (line: string) => void = (line) => console.warn(line)): OriginFetch {
  const once = (req: OriginRequest): Promise<OriginResponse> => {
    const target = new URL(req.url);
    const host = req.headers.get('host');
    if (host !== null && host.toLowerCase() !== target.host.toLowerCase()) return fetchOverSocket(req, target, host);
    return fetchNative(req);
  };
  return async (req: OriginRequest): Promise<OriginResponse> => {
    const res = await once(req);
    const encoding = undecoded(res);
    if (!encoding) return res;
    res.body?.cancel().catch(() => {});
    if (req.body !== null) throw new UndecodableEncodingError(encoding);
    log(`[edgemirror] ${req.url}: the origin sent Content-Encoding ${encoding}, which the Worker cannot decode; asking again for identity`);
    const headers = new Headers(req.headers);
    headers.set('accept-encoding', 'identity');
    const retried = await once({ ...req, headers });
    const still = undecoded(retried);
    if (!still) return retried;
    retried.body?.cancel().catch(() => {});
    throw new UndecodableEncodingError(still);
  };
}

/** The encoding left on a body the mirror would rewrite (null: none, or the body passes through as it is). */
function undecoded(res: OriginResponse): string | null {
  const encoding = res.headers.get('content-encoding')?.trim().toLowerCase();
  if (!encoding || encoding === 'identity' || !res.body || res.status === 206) return null;
  return bodyKind(res.headers.get('content-type')) === 'passthrough' ? null : encoding;
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
  const empty = hasNoMessageBody(req.method, res.status);
  if (empty && body) {
    body.cancel().catch(() => {});
    body = null;
  }
  return { status: res.status, headers: out, body };
}
