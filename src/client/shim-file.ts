import { SHIM_HASH, SHIM_JS } from './shim-asset.ts';

/** Where the mirror serves the client shim: a name that changes with its content, so it is cached for good. */
export const SHIM_PATH = `/_mirror/shim.${SHIM_HASH}.js`;

export function shimResponse(request: Request): Response {
  const head = request.method === 'HEAD';
  if (!head && request.method !== 'GET') return new Response('GET only\n', { status: 405, headers: { allow: 'GET, HEAD', 'cache-control': 'no-store' } });
  return new Response(head ? null : SHIM_JS, {
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=31536000, immutable', etag: `"${SHIM_HASH}"` },
  });
}
