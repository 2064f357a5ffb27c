import type { DocumentHandlers, ElementHandlers, HtmlEngine, HtmlHandlerRegistry } from '../rewrite/html-engine.ts';

/**
 * The HtmlEngine on Workers: the runtime's native, streaming HTMLRewriter (the same lol-html the Node
 * adapter runs as WASM). The pipeline hands it UTF-8 (legacy charsets are transcoded first, on both
 * runtimes), and the Response built here has no Content-Type, so the rewriter reads it as UTF-8.
 *
 * A handler that throws leaves its node unchanged and the page keeps streaming, as on Node
 * (the native rewriter would otherwise abort the whole response).
 */

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
    return rewriter.transform(new Response(body)).body!;
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
