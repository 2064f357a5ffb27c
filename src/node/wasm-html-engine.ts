import * as WasmModule from 'html-rewriter-wasm';
import { HTMLRewriter as WasmRewriter } from 'html-rewriter-wasm';
import { concatBytes } from '../http/bytes.ts';
import type { DocumentHandlers, ElementHandlers, HtmlEngine, HtmlHandlerRegistry } from '../rewrite/html-engine.ts';

/**
 * lol-html compiled to WASM (html-rewriter-wasm), wrapped for serving traffic on Node
 * (see ../shared/notes/stack-findings.md for why not the `htmlrewriter` package's transform()):
 * - pull-based: the origin is read only when the client pulls, so backpressure reaches the origin;
 * - lol-html's many tiny output pieces are merged into one chunk per input chunk;
 * - every element/text/end-tag wrapper is freed after its handler (each otherwise leaks WASM memory);
 * - the rewriter is freed when the stream ends, errors or is cancelled;
 * - lol-html's "parsing ambiguity" bail-out does not kill the page (see `writePiece` below).
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

/**
 * lol-html's ambiguity guard (strict mode, always on in this build and on Workers) throws when a
 * start tag that switches the tokenizer to text (script, style, textarea, title, …) comes after an
 * unclosed `<select>` or a `<frameset>`, non-conforming markup where it cannot tell whether a browser
 * would ignore the tag. Once a `<select` or `<frameset` has come by, each such tag is written to
 * lol-html as the start of its own write: after a successful write everything before has been written
 * out, so when the guard throws on the tag that starts a write, a fresh rewriter with the same rules
 * reads on from that tag.
 */
const TEXT_TAGS = ['textarea', 'title', 'plaintext', 'script', 'style', 'iframe', 'xmp', 'noembed', 'noframes', 'noscript'];
const GUARD_TAGS = ['select', 'frameset'];
const LONGEST_TAG = 9;

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** The tag name among `names` that `<name` at `at` starts, followed by whitespace, `/` or `>` (within `end`); null otherwise. */
function tagAt(data: Uint8Array, at: number, end: number, names: readonly string[]): string | null {
  let n = at + 1;
  while (n < end && n - at <= LONGEST_TAG + 1 && isAsciiLetter(data[n]!)) n++;
  if (n >= end || n - at - 1 > LONGEST_TAG) return null;
  const c = data[n]!;
  if (!(c === 32 || c === 9 || c === 10 || c === 12 || c === 13 || c === 47 || c === 62)) return null;
  let name = '';
  for (let i = at + 1; i < n; i++) name += String.fromCharCode(data[i]! | 0x20);
  return names.includes(name) ? name : null;
}

/** Where the end of `data` might be an unfinished `<name` (held back until the next chunk says). */
function holdFrom(data: Uint8Array): number {
  const lt = data.lastIndexOf(60);
  if (lt < 0 || data.length - lt - 1 > LONGEST_TAG) return data.length;
  for (let i = lt + 1; i < data.length; i++) if (!isAsciiLetter(data[i]!)) return data.length;
  return lt;
}

/** The tag lol-html's ambiguity guard threw on, if that is what `err` is. */
function ambiguousTag(err: unknown): string | null {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return /text content tag \(`<([a-z]+)>`\) in the context where it is ambiguous/.exec(text)?.[1] ?? null;
}

/**
 * Input lol-html may take in without writing anything out. This WASM build holds a token (a tag, a
 * comment) whole whatever its size, in WASM memory that never shrinks: past this, the response fails
 * (the reader sees an aborted transfer) instead of the process growing without bound. Legitimate
 * pages stay far below (a removed element this large would also end the response).
 */
export const MAX_HELD_BYTES = 4 * 1024 * 1024;

/**
 * lol-html's work is cut into slices of this size, and the event loop gets a turn after TURN_MS of it.
 * With any element selector registered (the mirror always has some), lol-html walks its whole stack of
 * open elements for each end tag that matches none: N nested elements then N stray end tags cost
 * O(N²) (20k + 20k: 3–5 s). That cannot be fixed from outside lol-html; slicing keeps it from holding
 * up every other response meanwhile. The fast engine is linear there.
 */
const SLICE_BYTES = 4 * 1024;
const TURN_MS = 20;

export class WasmHtmlEngine implements HtmlEngine {
  constructor(private readonly options: { onRewriteTime?: (seconds: number) => void } = {}) {}

  /** Bytes of WASM memory in use by lol-html (it only grows: flat after warm-up means no leak). */
  static memoryBytes(): number {
    return (WasmModule as unknown as { __wasm: { memory: WebAssembly.Memory } }).__wasm.memory.buffer.byteLength;
  }

  rewrite(body: ReadableStream<Uint8Array>, register: (registry: HtmlHandlerRegistry) => void): ReadableStream<Uint8Array> {
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    /** Input written to lol-html since it last wrote anything out. */
    let heldBytes = 0;
    const sink = (chunk: Uint8Array) => {
      // The sink may receive a view into WASM memory: copy before the next write reuses it.
      pending.push(chunk.slice());
      pendingBytes += chunk.length;
      heldBytes = 0;
    };
    let rewriter = new WasmRewriter(sink);
    /** The rules as registered, to set up a fresh rewriter with the same handlers (and their state). */
    const registrations: ((r: WasmRewriter) => void)[] = [];
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
      const add = (registration: (r: WasmRewriter) => void) => {
        registration(rewriter);
        registrations.push(registration);
      };
      register({
        on: (selector, handlers) => {
          const wrapped = wrapElementHandlers(handlers) as never;
          add((r) => r.on(selector, wrapped));
        },
        onDocument: (handlers) => {
          const wrapped = wrapDocumentHandlers(handlers) as never;
          add((r) => r.onDocument(wrapped));
        },
      });
    } catch (err) {
      free();
      throw err;
    }
    const reader = body.getReader();
    const onRewriteTime = this.options.onRewriteTime;
    const writePiece = async (piece: Uint8Array): Promise<void> => {
      heldBytes += piece.length;
      if (heldBytes > MAX_HELD_BYTES) throw new Error(`lol-html held over ${MAX_HELD_BYTES} bytes without output (a huge or unterminated token): the page cannot be rewritten`);
      try {
        await rewriter.write(piece);
      } catch (err) {
        const tag = ambiguousTag(err);
        if (!tag || tagAt(piece, 0, piece.length, TEXT_TAGS) !== tag) throw err;
        rewriter.free();
        rewriter = new WasmRewriter(sink);
        for (const registration of registrations) registration(rewriter);
        await rewriter.write(piece);
      }
    };
    let turnStart = performance.now();
    /** Held back: the end of the last chunk when it might be an unfinished `<name`. */
    let held: Uint8Array | null = null;
    /** A `<select` or `<frameset` has come by: lol-html's guard may throw from now on. */
    let guarded = false;
    const writeChunk = async (chunk: Uint8Array): Promise<void> => {
      const data = held ? concatBytes([held, chunk], held.length + chunk.length) : chunk;
      const keep = holdFrom(data);
      held = keep < data.length ? data.slice(keep) : null;
      let start = 0;
      for (let lt = data.indexOf(60); lt >= 0 && lt < keep; lt = data.indexOf(60, lt + 1)) {
        if (!guarded) {
          guarded = tagAt(data, lt, keep, GUARD_TAGS) !== null;
        } else if (lt > start && tagAt(data, lt, keep, TEXT_TAGS) !== null) {
          await writePiece(data.subarray(start, lt));
          start = lt;
        }
      }
      if (keep <= start) return;
      if (guarded) return writePiece(data.subarray(start, keep));
      // Before any <select>/<frameset> the ambiguity guard cannot throw: the piece can be cut anywhere,
      // and the event loop gets a turn whenever lol-html has run for TURN_MS (it is quadratic in some
      // malformed markup, see SLICE_BYTES).
      for (let at = start; at < keep; at += SLICE_BYTES) {
        await writePiece(data.subarray(at, Math.min(keep, at + SLICE_BYTES)));
        if (performance.now() - turnStart > TURN_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          turnStart = performance.now();
        }
      }
    };
    const takePending = (): Uint8Array | null => {
      if (pendingBytes === 0) return null;
      const out = concatBytes(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      return out;
    };

    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        busy = true;
        turnStart = performance.now();
        try {
          // Keep reading until lol-html has produced output (it may buffer a partial tag) or the input ends.
          for (;;) {
            const { done, value } = await reader.read();
            if (cancelled) return;
            if (done) {
              if (held) {
                const last = held;
                held = null;
                await writePiece(last);
              }
              await rewriter.end();
              const out = takePending();
              if (out) controller.enqueue(out);
              controller.close();
              free();
              return;
            }
            const t0 = onRewriteTime ? performance.now() : 0;
            await writeChunk(value);
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
