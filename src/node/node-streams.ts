import type { Readable } from 'node:stream';

/**
 * A pull-based Web ReadableStream over a Node Readable. (Readable.toWeb() over undici bodies crashes
 * Node 20 when clients abort: "Controller is already closed".) Reads only when the consumer pulls.
 */
export function readableToWeb(readable: Readable): ReadableStream<Uint8Array> {
  const iterator = readable[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value instanceof Uint8Array ? value : new TextEncoder().encode(String(value)));
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel(reason) {
      readable.destroy(reason instanceof Error ? reason : undefined);
      await iterator.return?.().catch(() => {});
    },
  });
}
