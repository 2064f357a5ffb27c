import { MirrorError } from '../http/errors.ts';
import type { DocumentHandlers, ElementHandlers, HtmlEngine, HtmlHandlerRegistry } from '../rewrite/html-engine.ts';

import { FastHtmlEngine } from '../rewrite/fast-html-engine.ts';
import type { ServerConfig } from '../config/types.ts';

/**
 * The HTML engines on Workers. `server.htmlEngine` picks one, as on Node: 'fast' (the default) is the
 * project's pure-JS engine, bundled as it is; 'lol-html' is the runtime's native HTMLRewriter (the same
 * lol-html the Node adapter runs as WASM). The native one costs ~20–30 µs CPU per handler call in
 * workerd (~51 ms for a 167 KB article against ~14 ms for the fast engine, see docs/workers.md) and
 * cannot take a start tag over 3 MiB (below), which is why it is not the default.
 *
 * The pipeline hands either engine UTF-8 (legacy charsets are transcoded first, on both runtimes), and
 * the Response built for the native one has no Content-Type, so it reads it as UTF-8.
 *
 * A handler that throws leaves its node unchanged and the page keeps streaming, as on Node
 * (the native rewriter would otherwise abort the whole response).
 */
export function createWorkerHtmlEngine(name: ServerConfig['htmlEngine']): HtmlEngine {
  return name === 'lol-html' ? new NativeHtmlEngine() : new FastHtmlEngine();
}

/**
 * workerd hard-codes the native rewriter's memory limit to 3 MiB; a longer start tag (a multi-MB
 * `data:` URL in an attribute) makes it end the output early, and workerd delivers that as a clean end
 * of body. So the input is watched: a start tag growing past this fails the input instead, which the
 * Worker turns into a visible failure (src/worker/response.ts), never a silently cut page.
 */
export const NATIVE_MAX_TAG_BYTES = 2 * 1024 * 1024;

export class StartTagTooLongError extends MirrorError {
  constructor() {
    super('EM_START_TAG_TOO_LONG', `a start tag longer than ${NATIVE_MAX_TAG_BYTES} bytes: the native HTMLRewriter cannot rewrite it (set server.htmlEngine to "fast")`);
    this.name = 'StartTagTooLongError';
  }
}

/**
 * Passes bytes through while tracking how long the current tag is. Deliberately coarse: any `<`
 * followed by a letter starts a tag, and it ends at the next `>` outside a quoted value. That over-counts
 * at worst (a `<a` inside script text starts a "tag" that ends at the next `>`), so it may refuse a page
 * the native engine could take, never the reverse; each byte is looked at once.
 */
export function guardStartTags(body: ReadableStream<Uint8Array>, limit = NATIVE_MAX_TAG_BYTES): ReadableStream<Uint8Array> {
  // 0: outside a tag, 1: just saw '<', 2: in a tag, 3: in "…", 4: in '…'
  let state = 0;
  let length = 0;
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      for (let i = 0; i < value.length; i++) {
        const b = value[i]!;
        switch (state) {
          case 0:
            if (b === 60) state = 1;
            continue;
          case 1:
            if ((b | 32) >= 97 && (b | 32) <= 122) {
              state = 2;
              length = 2;
            } else state = b === 60 ? 1 : 0;
            continue;
          case 2:
            if (b === 62) state = 0;
            else if (b === 34) state = 3;
            else if (b === 39) state = 4;
            break;
          case 3:
            if (b === 34) state = 2;
            break;
          default:
            if (b === 39) state = 2;
        }
        if (++length > limit) {
          reader.cancel().catch(() => {});
          controller.error(new StartTagTooLongError());
          return;
        }
      }
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

let handlerErrors = 0;
function reportHandlerError(err: unknown): void {
  handlerErrors++;
  if (handlerErrors <= 5) console.error(`[edgemirror] HTML handler error (node left unchanged): ${(err as Error)?.message ?? err}`);
}

function guard<T>(handler: (value: T) => void): (value: T) => void {
  return (value: T) => {
    try {
      handler(value);
    } catch (err) {
      reportHandlerError(err);
    }
  };
}

function nativeElementHandlers(handlers: ElementHandlers): HTMLRewriterElementContentHandlers {
  const out: HTMLRewriterElementContentHandlers = {};
  if (handlers.element) {
    const element = handlers.element;
    out.element = guard((el: Element) => {
      // End-tag handlers get the same guard.
      const onEndTag = el.onEndTag.bind(el);
      (el as { onEndTag: unknown }).onEndTag = (h: (end: EndTag) => void) => onEndTag(guard(h));
      element(el as never);
    });
  }
  if (handlers.text) {
    const text = handlers.text;
    out.text = guard((t: Text) => text(t as never));
  }
  return out;
}

function nativeDocumentHandlers(handlers: DocumentHandlers): HTMLRewriterDocumentContentHandlers {
  const end = handlers.end;
  return end ? { end: guard((e: DocumentEnd) => end(e as never)) } : {};
}

export class NativeHtmlEngine implements HtmlEngine {
  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array> {
    const rewriter = new HTMLRewriter();
    register({
      on: (selector, handlers) => rewriter.on(selector, nativeElementHandlers(handlers)),
      onDocument: (handlers) => rewriter.onDocument(nativeDocumentHandlers(handlers)),
    });
    return rewriter.transform(new Response(guardStartTags(body))).body!;
  }

  checkSelector(selector: string): string | null {
    try {
      // The native rewriter parses the selector in on(), so a bad one throws here.
      new HTMLRewriter().on(selector, {});
      return null;
    } catch (err) {
      return (err as Error)?.message || 'invalid selector';
    }
  }
}
