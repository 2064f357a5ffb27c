import * as WasmModule from 'html-rewriter-wasm';
import { HTMLRewriter as WasmRewriter } from 'html-rewriter-wasm';
import type { DocumentHandlers, ElementHandlers, HtmlEngine, HtmlHandlerRegistry } from '../rewrite/html-engine.ts';

/**
 * lol-html compiled to WASM (html-rewriter-wasm), wrapped for serving traffic on Node
 * (see ../shared/notes/stack-findings.md for why not the `htmlrewriter` package's transform()):
 * - pull-based: the origin is read only when the client pulls, so backpressure reaches the origin;
 * - lol-html's many tiny output pieces are merged into one chunk per input chunk;
 * - every element/text/end-tag wrapper is freed after its handler (each otherwise leaks WASM memory);
 * - the rewriter is freed when the stream ends, errors or is cancelled.
 */

type Freeable = { free(): void };

function freeAfter<T extends Freeable>(handler: (value: T) => void): (value: T) => void {
  return (value: T) => {
    try {
      handler(value);
    } catch (err) {
      // A handler failure (e.g. invalid UTF-8 in an attribute) leaves that node untouched; the page still streams.
      reportHandlerError(err);
    } finally {
      value.free();
    }
  };
}

let handlerErrors = 0;
function reportHandlerError(err: unknown): void {
  handlerErrors++;
  if (handlerErrors <= 5) console.error(`[edgemirror] HTML handler error (node left unchanged): ${(err as Error)?.message ?? err}`);
}

function wrapElementHandlers(handlers: ElementHandlers): object {
  const wrapped: Record<string, unknown> = {};
  if (handlers.element) {
    const element = handlers.element;
    wrapped.element = freeAfter((el: any) => {
      // End-tag objects are WASM wrappers too: free them after their handler as well.
      const onEndTag = el.onEndTag.bind(el);
      el.onEndTag = (h: (end: any) => void) => onEndTag(freeAfter(h));
      element(el);
    });
  }
  if (handlers.text) wrapped.text = freeAfter(handlers.text as (t: any) => void);
  return wrapped;
}

function wrapDocumentHandlers(handlers: DocumentHandlers): object {
  return handlers.end ? { end: freeAfter(handlers.end as (e: any) => void) } : {};
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export class WasmHtmlEngine implements HtmlEngine {
  constructor(private readonly options: { onRewriteTime?: (seconds: number) => void } = {}) {}

  /** Bytes of WASM memory in use by lol-html (it only grows: flat after warm-up means no leak). */
  static memoryBytes(): number {
    return (WasmModule as unknown as { __wasm: { memory: WebAssembly.Memory } }).__wasm.memory.buffer.byteLength;
  }

  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array> {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const rewriter = new WasmRewriter((chunk: Uint8Array) => {
      // The sink may receive a view into WASM memory: copy before the next write reuses it.
      pending.push(chunk.slice());
      pendingBytes += chunk.length;
    });
    let freed = false;
    let busy = false;
    let cancelled = false;
    const free = () => {
      if (!freed) {
        freed = true;
        rewriter.free();
      }
    };
    try {
      register({
        on: (selector, handlers) => rewriter.on(selector, wrapElementHandlers(handlers) as never),
        onDocument: (handlers) => rewriter.onDocument(wrapDocumentHandlers(handlers) as never),
      });
    } catch (err) {
      free();
      throw err;
    }
    const reader = body.getReader();
    const onRewriteTime = this.options.onRewriteTime;
    const takePending = (): Uint8Array | null => {
      if (pendingBytes === 0) return null;
      const out = concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return out;
    };

    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        busy = true;
        try {
          // Keep reading until lol-html has produced output (it may buffer a partial tag) or the input ends.
          for (;;) {
            const { done, value } = await reader.read();
            if (cancelled) return;
            if (done) {
              await rewriter.end();
              const out = takePending();
              if (out) controller.enqueue(out);
              controller.close();
              free();
              return;
            }
            const t0 = onRewriteTime ? performance.now() : 0;
            await rewriter.write(value);
            if (onRewriteTime) onRewriteTime((performance.now() - t0) / 1000);
            const out = takePending();
            if (out) {
              controller.enqueue(out);
              return;
            }
          }
        } catch (err) {
          free();
          reader.cancel(err).catch(() => {});
          controller.error(err);
        } finally {
          busy = false;
          if (cancelled) free();
        }
      },
      cancel(reason) {
        cancelled = true;
        // Never free a rewriter in the middle of write(): pull()'s finally frees it once it returns.
        if (!busy) free();
        return reader.cancel(reason);
      },
    });
  }

  checkSelector(selector: string): string | null {
    const rewriter = new WasmRewriter(() => {});
    try {
      rewriter.on(selector, {});
      return null;
    } catch (err) {
      return (err as Error).message || 'invalid selector';
    } finally {
      rewriter.free();
    }
  }
}
