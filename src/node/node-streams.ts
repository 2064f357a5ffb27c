import type { Readable } from 'node:stream';

/**
 * A pull-based Web ReadableStream over a Node Readable. (Readable.toWeb() over undici bodies crashes
 * Node 20 when clients abort: "Controller is already closed".) Reads only when the consumer pulls.
 *
 * Uses the Readable's own paused mode (`read()` and the 'readable' event) rather than its async
 * iterator: the iterator allocates promises and end-of-stream watchers per chunk, a cost that shows on
 * every small response. `read()` also hands over everything buffered at once: fewer, larger chunks.
 */
export function readableToWeb(readable: Readable): ReadableStream<Uint8Array> {
  let ended = readable.readableEnded;
  let failure: { error: unknown } | null = readable.errored ? { error: readable.errored } : null;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  readable.on('readable', signal);
  readable.once('end', () => {
    ended = true;
    signal();
  });
  readable.once('error', (error) => {
    failure ??= { error };
    signal();
  });
  readable.once('close', () => {
    // Destroyed before its end without an error of its own: the body is incomplete, never a clean end.
    if (!ended) failure ??= { error: new Error('the source stream closed before its end') };
    signal();
  });
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (failure) return controller.error(failure.error);
        const chunk: unknown = readable.read();
        if (chunk !== null) {
          controller.enqueue(chunk instanceof Uint8Array ? chunk : new TextEncoder().encode(String(chunk)));
          return;
        }
        if (ended) return controller.close();
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    cancel(reason) {
      readable.destroy(reason instanceof Error ? reason : undefined);
    },
  });
}
