/** Small Web-stream helpers shared by the body filters (runtime-agnostic). */
import { concatBytes } from '../http/bytes.ts';

export function stringStream(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      if (bytes.length) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** Re-emits `head` chunks, then the rest of `reader`, pulling lazily. */
export function prependChunks(head: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(controller) {
      if (i < head.length) {
        controller.enqueue(head[i++]!);
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Reads up to `limit` bytes (or until `enough` says so) without losing anything: returns the chunks read and a stream of the whole body. */
export async function peek(
  body: ReadableStream<Uint8Array>,
  limit: number,
  enough: (chunks: Uint8Array[], total: number) => boolean = () => false,
): Promise<{ head: Uint8Array[]; total: number; done: boolean; stream: ReadableStream<Uint8Array> }> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let total = 0;
  let done = false;
  while (total < limit && !enough(head, total)) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    total += r.value.length;
  }
  return { head, total, done, stream: prependChunks(head, reader) };
}

/**
 * Drops a UTF-8 byte order mark at the start of a body labelled UTF-8 on its way out: a decoder drops
 * it anyway, but an engine reading bytes would take it for text, which starts a <body> before <head>.
 */
export async function dropUtf8Bom(body: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let total = 0;
  while (total < 3) {
    const r = await reader.read();
    if (r.done) break;
    head.push(r.value);
    total += r.value.length;
  }
  const first = concatBytes(head, total);
  const bom = first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf;
  return prependChunks(bom ? [first.subarray(3)] : head, reader);
}


export interface TextRewriter {
  /** Rewritten text that can be sent now; an unfinished tail is kept for the next call. */
  push(chunk: string): string;
  flush(): string;
}

/**
 * Decodes a byte stream with `charset`, rewrites it as text, and encodes it as UTF-8, one chunk at a time
 * and only as fast as the consumer reads.
 */
export function rewriteTextStream(body: ReadableStream<Uint8Array>, charset: string, rewriter: TextRewriter): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder(charset);
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          const rest = rewriter.push(decoder.decode()) + rewriter.flush();
          if (rest) controller.enqueue(encoder.encode(rest));
          controller.close();
          return;
        }
        const out = rewriter.push(decoder.decode(value, { stream: true }));
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * A TextRewriter for text where every match is made only of "token" characters (origin URL prefixes in
 * scripts, JSON, XML): it holds back the text after the last non-token character, so no match is cut in two.
 */
export function tokenBoundedRewriter(rewrite: (text: string) => string, maxCarry = 64 * 1024): TextRewriter {
  return boundaryRewriter(rewrite, (c) => !isTokenChar(c), maxCarry);
}

/**
 * A TextRewriter that rewrites text in windows ending just after a character `boundary` accepts (the
 * text after the last one is held for the next call), so a match that never spans a boundary is never
 * cut in two. At most `maxCarry` characters are held: with no boundary in sight the text goes as it is.
 */
export function boundaryRewriter(rewrite: (text: string) => string, boundary: (c: number) => boolean, maxCarry = 64 * 1024): TextRewriter {
  let carry = '';
  return {
    push(chunk) {
      const text = carry + chunk;
      let cut = text.length;
      while (cut > 0 && !boundary(text.charCodeAt(cut - 1))) cut--;
      if (cut === 0 && text.length < maxCarry) {
        carry = text;
        return '';
      }
      if (cut === 0) cut = text.length;
      carry = text.slice(cut);
      return rewrite(text.slice(0, cut));
    },
    flush() {
      const text = carry;
      carry = '';
      return text ? rewrite(text) : '';
    },
  };
}

export function isTokenChar(c: number): boolean {
  // A-Z a-z 0-9 _ . : / \ - %
  return (
    (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 58 || c === 47 || c === 92 || c === 45 || c === 37
  );
}
