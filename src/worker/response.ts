import { concatBytes } from '../http/bytes.ts';
import { errorPage } from '../proxy/error-page.ts';

/**
 * How the Worker hands a response to workerd so that a body failing after the headers is visible.
 *
 * Measured (workerd 2026-04-26 via Miniflare, raw socket client): a body built from a JavaScript stream
 * that errors partway — controller.error(), a throwing pull(), an aborted TransformStream or
 * IdentityTransformStream, a DecompressionStream fed a cut gzip — is always ended with a normal chunked
 * terminator ("0\r\n\r\n"): the reader sees a complete 200. A body with a declared length (a
 * FixedLengthStream) that ends short is cut off instead: the reader sees fewer bytes than Content-Length,
 * an aborted transfer. So:
 *
 * - A body whose length is known (passthrough: images, video, 206 ranges) keeps its Content-Length,
 *   through a FixedLengthStream: a failure is an aborted transfer, as on Node.
 * - Any other body (rewritten pages) is held back up to HOLD_BYTES / HOLD_MS before the headers go out.
 *   A body that ends in that window goes out whole with its Content-Length; one that fails in it becomes
 *   a 502. That covers ordinary pages (a 160 KB article is well inside the window).
 * - A longer or slower body then streams chunked. If it fails later, workerd still ends it cleanly; an
 *   HTML page then gets a visible notice at the point it broke off. Nothing is cached from a failed body
 *   either way (the cache commits only bodies that ended cleanly, src/cache/broadcast.ts).
 */
export const HOLD_BYTES = 512 * 1024;
export const HOLD_MS = 300;

const CUT_NOTICE =
  '<div class="mirror-cut" style="padding:1em;background:#fee;color:#900;font-weight:bold">' +
  '本页传输中断，内容不完整，请刷新重试。 (The original site\'s response broke off here: this page is incomplete.)</div>';

function isHtml(response: Response): boolean {
  const type = response.headers.get('content-type')?.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'text/html' || type === 'application/xhtml+xml';
}

export async function deliver(response: Response, onError: (err: unknown) => void = () => {}): Promise<Response> {
  const body = response.body;
  if (!body) return response;
  const declared = response.headers.get('content-length');
  // A Content-Encoding here is the origin's (a passthrough body, still encoded, see origin-fetch.ts):
  // 'manual' keeps workerd from encoding it a second time.
  const encodeBody = response.headers.has('content-encoding') ? 'manual' : 'automatic';
  if (declared !== null && /^\d+$/.test(declared.trim())) {
    const fixed = new FixedLengthStream(Number(declared));
    body.pipeTo(fixed.writable).catch(onError);
    return new Response(fixed.readable, { status: response.status, statusText: response.statusText, headers: response.headers, encodeBody });
  }
  if (encodeBody === 'manual') {
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers, encodeBody });
  }
  return hold(response, body, onError);
}

async function hold(response: Response, body: ReadableStream<Uint8Array>, onError: (err: unknown) => void): Promise<Response> {
  const reader = body.getReader();
  const held: Uint8Array[] = [];
  let bytes = 0;
  const deadline = Date.now() + HOLD_MS;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  try {
    while (bytes <= HOLD_BYTES) {
      pending ??= reader.read();
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | null = null;
      const result = await Promise.race([pending, new Promise<null>((r) => (timer = setTimeout(() => r(null), left)))]);
      if (timer !== null) clearTimeout(timer);
      if (result === null) break;
      pending = null;
      if (result.done) {
        // (A cache hit is one chunk already: no copy.)
        const whole = concatBytes(held, bytes);
        const headers = new Headers(response.headers);
        headers.set('content-length', String(bytes));
        return new Response(whole, { status: response.status, statusText: response.statusText, headers });
      }
      held.push(result.value);
      bytes += result.value.length;
    }
  } catch (err) {
    onError(err);
    return errorPage(502, 'Bad Gateway', "The original site's response broke off.");
  }
  const html = isHtml(response);
  const encoder = new TextEncoder();
  let failed = false;
  const rest = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = held.shift();
      if (next) return controller.enqueue(next);
      if (failed) return controller.close();
      try {
        const result = await (pending ?? reader.read());
        pending = null;
        if (result.done) controller.close();
        else controller.enqueue(result.value);
      } catch (err) {
        onError(err);
        failed = true;
        // workerd ends this body cleanly whatever happens (see above): say so where a reader sees it.
        if (html) controller.enqueue(encoder.encode(CUT_NOTICE));
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(rest, response);
}
