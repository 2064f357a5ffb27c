import { once } from 'node:events';
import zlib from 'node:zlib';
import { withHeaders } from '../proxy/response-headers.ts';
import { readableToWeb } from './node-streams.ts';

/**
 * Response compression for Node (Workers compresses by itself). Rewritten bodies leave the pipeline
 * as identity; here they are compressed per the client's Accept-Encoding: br, then gzip, then deflate,
 * at fast levels, flushed after every chunk so streaming pages still stream.
 */
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml|xhtml\+xml|rss\+xml|atom\+xml|rdf\+xml|ld\+json|manifest\+json|x-javascript)|image\/svg\+xml)/i;

export function chooseEncoding(acceptEncoding: string | null): Encoding | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name.trim(), qParam ? Number(qParam.slice(2)) || 0 : 1);
  }
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const name of ['br', 'gzip', 'deflate'] as const) {
    const value = q.get(name) ?? q.get('*') ?? 0;
    if (value > bestQ) {
      best = name;
      bestQ = value;
    }
  }
  return best;
}

const BROTLI_OPTIONS = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } };
const ZLIB_OPTIONS = { level: 5 };

function createEncoder(encoding: Encoding): zlib.BrotliCompress | zlib.Gzip | zlib.Deflate {
  if (encoding === 'br') return zlib.createBrotliCompress(BROTLI_OPTIONS);
  if (encoding === 'gzip') return zlib.createGzip(ZLIB_OPTIONS);
  return zlib.createDeflate(ZLIB_OPTIONS);
}

/**
 * One-shot compression of a whole (small) body: several times cheaper in CPU than setting up an encoder
 * stream, flushing it and reading its output through a Web stream (~0.03 vs ~0.17 ms for a 400-byte script).
 */
export function compressBytes(encoding: Encoding, body: Uint8Array): Uint8Array {
  if (encoding === 'br') return zlib.brotliCompressSync(body, BROTLI_OPTIONS);
  if (encoding === 'gzip') return zlib.gzipSync(body, ZLIB_OPTIONS);
  return zlib.deflateSync(body, ZLIB_OPTIONS);
}

type Encoding = 'br' | 'gzip' | 'deflate';

/** Smaller bodies are not worth compressing. */
export const MIN_COMPRESS_BYTES = 1024;

/**
 * Whether a response may be compressed for this request: null when not (no body, HEAD, a range, already
 * encoded, not a text type, declared smaller than MIN_COMPRESS_BYTES, no-transform); otherwise the
 * encoding to use (null when the client accepts none) and the header changes that go with it.
 */
export function compressionPlan(request: Request, response: Response): { encoding: Encoding | null; headers: (compressed: boolean) => Record<string, string | null> } | null {
  const type = response.headers.get('content-type');
  const length = response.headers.get('content-length');
  if (
    !response.body ||
    request.method === 'HEAD' ||
    response.status === 206 ||
    response.headers.has('content-encoding') ||
    !type ||
    !COMPRESSIBLE.test(type) ||
    (length !== null && Number(length) < MIN_COMPRESS_BYTES) ||
    /(^|,)\s*no-transform\s*(,|$)/i.test(response.headers.get('cache-control') ?? '')
  ) {
    return null;
  }
  const vary = response.headers.get('vary');
  const varyEdit: Record<string, string> = vary !== '*' && !/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary ?? '') ? { vary: vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding' } : {};
  const encoding = chooseEncoding(request.headers.get('accept-encoding'));
  const etag = response.headers.get('etag');
  return {
    encoding,
    headers: (compressed) =>
      compressed && encoding
        ? { ...varyEdit, 'content-encoding': encoding, 'content-length': null, ...(etag && !etag.startsWith('W/') ? { etag: `W/${etag}` } : {}) }
        : varyEdit,
  };
}

export function compressResponse(request: Request, response: Response): Response {
  const plan = compressionPlan(request, response);
  if (!plan) return response;
  // Headers are edited in place (copied only when immutable): a copy per request shows in the CPU profile.
  const edited = withHeaders(response, plan.headers(plan.encoding !== null));
  if (!plan.encoding) return edited;

  const encoder = createEncoder(plan.encoding);
  const reader = edited.body!.getReader();
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!encoder.write(value)) await once(encoder, 'drain');
      encoder.flush();
    }
    encoder.end();
  })().catch((err) => encoder.destroy(err));
  encoder.on('close', () => void reader.cancel().catch(() => {}));
  return new Response(readableToWeb(encoder), { status: edited.status, statusText: edited.statusText, headers: edited.headers });
}
