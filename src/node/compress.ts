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

export function chooseEncoding(acceptEncoding: string | null): 'br' | 'gzip' | 'deflate' | null {
  if (!acceptEncoding) return null;
  const q = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name = '', ...params] = part.trim().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name.trim(), qParam ? Number(qParam.slice(2)) || 0 : 1);
  }
  let best: 'br' | 'gzip' | 'deflate' | null = null;
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

function createEncoder(encoding: 'br' | 'gzip' | 'deflate'): zlib.BrotliCompress | zlib.Gzip | zlib.Deflate {
  if (encoding === 'br') return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
  if (encoding === 'gzip') return zlib.createGzip({ level: 5 });
  return zlib.createDeflate({ level: 5 });
}

export function compressResponse(request: Request, response: Response): Response {
  const type = response.headers.get('content-type');
  const length = response.headers.get('content-length');
  if (
    !response.body ||
    request.method === 'HEAD' ||
    response.status === 206 ||
    response.headers.has('content-encoding') ||
    !type ||
    !COMPRESSIBLE.test(type) ||
    (length !== null && Number(length) < 1024) ||
    /(^|,)\s*no-transform\s*(,|$)/i.test(response.headers.get('cache-control') ?? '')
  ) {
    return response;
  }
  // Headers are edited in place (copied only when immutable): a copy per request shows in the CPU profile.
  const vary = response.headers.get('vary');
  const addVary = vary !== '*' && !/(^|,)\s*accept-encoding\s*(,|$)/i.test(vary ?? '');
  const encoding = chooseEncoding(request.headers.get('accept-encoding'));
  if (!encoding) return addVary ? withHeaders(response, { vary: vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding' }) : response;
  const etag = response.headers.get('etag');
  const edited = withHeaders(response, {
    ...(addVary ? { vary: vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding' } : {}),
    'content-encoding': encoding,
    'content-length': null,
    ...(etag && !etag.startsWith('W/') ? { etag: `W/${etag}` } : {}),
  });

  const encoder = createEncoder(encoding);
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
