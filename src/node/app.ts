import { MemoryStore } from '../cache/memory-store.ts';
import type { MirrorConfig } from '../config/types.ts';
import { concatBytes } from '../http/bytes.ts';
import { errorPage, unhandledErrorPage } from '../proxy/error-page.ts';
import { createMirrorApp, type MirrorApp } from '../proxy/mirror-app.ts';
import type { OriginFetch } from '../proxy/origin-fetch.ts';
import type { Observer } from '../observe/observer.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { compressBytes, compressionPlan, compressResponse } from './compress.ts';

/** What @hono/node-server hands the fetch callback next to the request. */
export interface NodeBindings {
  /** node:http's IncomingMessage (or HTTP/2's request): only the peer address is read. */
  incoming?: { socket?: { remoteAddress?: string } | null };
}

/** A fetch handler as @hono/node-server's `serve` calls it. */
export interface NodeApp {
  fetch(request: Request, env?: NodeBindings): Promise<Response>;
}

/**
 * The Node app: every request goes to the mirror app (endpoints, cache, pipeline); Node adds compression.
 * No router in between: the mirror app routes by itself, and a framework's per-request context and
 * middleware chain cost CPU on every request for nothing.
 */
export function createNodeApp(config: MirrorConfig, fetchOrigin: OriginFetch, html: HtmlEngine, observer: Observer): { app: NodeApp; mirror: MirrorApp } {
  const mirror = createMirrorApp({
    config,
    fetchOrigin,
    html,
    observer,
    store: new MemoryStore(config.cache.maxBytes),
    purgeToken: process.env.EDGEMIRROR_PURGE_TOKEN ?? null,
  });
  const app: NodeApp = {
    async fetch(request, env) {
      try {
        const response = await mirror.fetch(request, { clientIp: env?.incoming?.socket?.remoteAddress });
        const ahead = await readAhead(response);
        if (ahead.complete) return wholeResponse(request, response, ahead.body);
        return compressResponse(request, ahead.response);
      } catch (err) {
        return unhandledErrorPage(err);
      }
    },
  };
  return { app, mirror };
}

/** Bodies up to this size that are complete without waiting for I/O are sent in one write with a Content-Length. */
export const INLINE_BODY_LIMIT = 64 * 1024;

const NEXT_TURN = Symbol('next turn');

/** The read's result, or NEXT_TURN if it needs I/O (the event loop's check phase came first). */
async function readNow(pending: Promise<ReadableStreamReadResult<Uint8Array>>): Promise<ReadableStreamReadResult<Uint8Array> | typeof NEXT_TURN> {
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const turn = new Promise<typeof NEXT_TURN>((resolve) => (immediate = setImmediate(resolve, NEXT_TURN)));
  try {
    return await Promise.race([pending, turn]);
  } finally {
    clearImmediate(immediate);
  }
}

/**
 * Reads what a response body has ready without waiting for I/O (the promise chain of the stream layers
 * settles in microtasks when the origin's bytes are already buffered, i.e. before the next event-loop
 * turn). A body that turns out complete and small comes back as bytes: wholeResponse() then lets the
 * Node server write head and body at once with a Content-Length, instead of flushing the head, pumping a
 * Web stream and ending a chunked body (three writes, a reader, listeners per response), and compresses
 * it in one call instead of through an encoder stream. Anything else comes back as a response whose
 * stream first replays what was read: nothing is waited for that would delay the first byte by more
 * than one event-loop turn. A body that fails while being read here becomes a 502 error page; one that
 * fails later ends as an aborted transfer, as before.
 */
export async function readAhead(response: Response): Promise<{ complete: true; body: Uint8Array } | { complete: false; response: Response }> {
  if (!response.body) return { complete: false, response };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> = reader.read();
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array> | typeof NEXT_TURN;
    try {
      result = await readNow(pending);
    } catch (err) {
      // Failed before anything was sent: say so with a status (@hono/node-server would answer a body
      // failing during its own first reads with a 500 carrying the error's message).
      reader.cancel(err).catch(() => {});
      return { complete: false, response: errorPage(502, 'Bad Gateway', 'The answer from the original site broke off.') };
    }
    if (result === NEXT_TURN) break;
    if (result.done) return { complete: true, body: concatBytes(chunks, total) };
    chunks.push(result.value);
    total += result.value.byteLength;
    pending = reader.read();
    if (total > INLINE_BODY_LIMIT) break;
  }
  let first = true;
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      chunks.length = 0;
    },
    async pull(controller) {
      try {
        const { done, value } = await (first ? pending : reader.read());
        first = false;
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { complete: false, response: new Response(replay, { status: response.status, statusText: response.statusText, headers: response.headers }) };
}

/** A complete body, compressed per the client's Accept-Encoding like compressResponse() would, with plain-object headers. */
function wholeResponse(request: Request, response: Response, bytes: Uint8Array): Response {
  let body = bytes;
  let edits: Record<string, string | null> = {};
  const plan = compressionPlan(request, response);
  if (plan) {
    edits = plan.headers(plan.encoding !== null);
    if (plan.encoding) body = compressBytes(plan.encoding, body);
  }
  const headers = plainHeaders(response.headers, edits, body.byteLength);
  const init = { status: response.status, statusText: response.statusText };
  // Several Set-Cookie do not fit a record: a Headers object keeps them apart.
  if (!headers) return new Response(body as Uint8Array<ArrayBuffer>, { ...init, headers: withEdits(new Headers(response.headers), edits, body.byteLength) });
  return new Response(body as Uint8Array<ArrayBuffer>, { ...init, headers });
}

/** The headers as a plain record (what node:http takes), edited, with the body's real length; null with several Set-Cookie (a record holds one). */
function plainHeaders(headers: Headers, edits: Record<string, string | null>, length: number): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === 'set-cookie' && out[name] !== undefined) return null;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(edits)) {
    if (value === null) delete out[name];
    else out[name] = value;
  }
  delete out['transfer-encoding'];
  out['content-length'] = String(length);
  return out;
}

function withEdits(headers: Headers, edits: Record<string, string | null>, length: number): Headers {
  for (const [name, value] of Object.entries(edits)) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  headers.delete('transfer-encoding');
  headers.set('content-length', String(length));
  return headers;
}
