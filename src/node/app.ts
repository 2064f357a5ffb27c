import { MemoryStore } from '../cache/memory-store.ts';
import type { MirrorConfig } from '../config/types.ts';
import { errorPage } from '../proxy/error-page.ts';
import { createMirrorApp, type MirrorApp } from '../proxy/mirror-app.ts';
import type { OriginFetch } from '../proxy/origin-fetch.ts';
import type { Observer } from '../observe/observer.ts';
import type { HtmlEngine } from '../rewrite/html-engine.ts';
import { compressResponse } from './compress.ts';

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
        return await inlineSmallBody(compressResponse(request, await mirror.fetch(request, { clientIp: env?.incoming?.socket?.remoteAddress })));
      } catch (err) {
        console.error(`[edgemirror] unhandled error: ${(err as Error)?.stack ?? err}`);
        return errorPage(500, 'Internal Error', 'The mirror failed to handle this request.');
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
 * turn). A body that turns out complete and small is returned as bytes with plain-object headers: the
 * Node server then writes head and body at once with a Content-Length, instead of flushing the head,
 * pumping a Web stream and ending a chunked body (three writes, a reader, listeners per response).
 * Anything else is returned as a stream that first replays what was read: nothing is waited for that
 * would delay the first byte by more than one event-loop turn, and a body that fails still fails
 * visibly (the replay ends in the same error).
 */
export async function inlineSmallBody(response: Response): Promise<Response> {
  if (!response.body) return response;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> = reader.read();
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array> | typeof NEXT_TURN;
    try {
      result = await readNow(pending);
    } catch {
      break; // the replay below ends in the same error
    }
    if (result === NEXT_TURN) break;
    if (result.done) {
      const headers = plainHeaders(response.headers, total);
      const body = joinChunks(chunks, total) as Uint8Array<ArrayBuffer>;
      if (headers) return new Response(body, { status: response.status, statusText: response.statusText, headers });
      chunks.length = 0;
      chunks.push(body);
      pending = Promise.resolve(result);
      break;
    }
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
  return new Response(replay, { status: response.status, statusText: response.statusText, headers: response.headers });
}

function joinChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The headers as a plain record (what node:http takes), with the body's real length; null with several Set-Cookie (a record holds one). */
function plainHeaders(headers: Headers, length: number): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name === 'set-cookie' && out[name] !== undefined) return null;
    out[name] = value;
  }
  delete out['transfer-encoding'];
  out['content-length'] = String(length);
  return out;
}
