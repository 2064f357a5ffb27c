import { concatBytes } from '../http/bytes.ts';
import { BodyTimeoutError, PayloadTooLargeError, QueueTimeoutError } from '../http/errors.ts';
import { once } from '../http/once.ts';

/** Bounds on what one reader can make the mirror do: request bodies and origin concurrency. */

export { BodyTimeoutError, PayloadTooLargeError, QueueTimeoutError } from '../http/errors.ts';

/**
 * Reads a whole request body, at most `limit` bytes and within `timeoutSeconds`, before any origin
 * slot is taken: a client uploading at 1 byte/s then holds only its own connection, never a slot.
 * Rejects with PayloadTooLargeError, BodyTimeoutError or the signal's reason.
 */
export async function readRequestBody(body: ReadableStream<Uint8Array>, limit: number, timeoutSeconds: number, signal?: AbortSignal): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyTimeoutError(timeoutSeconds)), timeoutSeconds * 1000);
    onAbort = () => reject(signal!.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => {});
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), stop]);
      if (done) break;
      total += value.length;
      if (total > limit) throw new PayloadTooLargeError(limit);
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
  return concatBytes(chunks, total);
}

/** A stream of one chunk (a buffered request body). */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.length) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * Reads an origin body ahead of its consumer, holding at most about `limit` bytes (plus one chunk).
 * `onParked` is called once, when `limit` bytes are waiting on a consumer that does not keep up: the
 * caller then releases the body's origin slot, so a reader who does not read holds a bounded buffer
 * and its connection, not a slot. (A body that ends within `limit` is read whole at origin speed.)
 */
export function readAhead(body: ReadableStream<Uint8Array>, limit: number, onParked: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: { error: unknown } | null = null;
  let cancelled = false;
  let parked = false;
  let wakeConsumer: (() => void) | null = null;
  let wakePump: (() => void) | null = null;
  const notify = () => {
    const wake = wakeConsumer;
    wakeConsumer = null;
    wake?.();
  };
  (async () => {
    try {
      while (!cancelled) {
        if (queued >= limit) {
          if (!parked) {
            parked = true;
            onParked();
          }
          await new Promise<void>((resolve) => (wakePump = resolve));
          continue;
        }
        const { done, value } = await reader.read();
        if (done) break;
        queue.push(value);
        queued += value.length;
        notify();
      }
    } catch (error) {
      failure = { error };
    }
    ended = true;
    notify();
  })();
  return new ReadableStream({
    async pull(controller) {
      while (!queue.length && !ended) await new Promise<void>((resolve) => (wakeConsumer = resolve));
      const chunk = queue.shift();
      if (chunk) {
        queued -= chunk.length;
        controller.enqueue(chunk);
        const wake = wakePump;
        wakePump = null;
        wake?.();
      } else if (failure) controller.error(failure.error);
      else controller.close();
    },
    cancel(reason) {
      cancelled = true;
      queue.length = 0;
      queued = 0;
      const wake = wakePump;
      wakePump = null;
      wake?.();
      return reader.cancel(reason);
    },
  });
}

interface Waiter {
  client: string | undefined;
  grant: () => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A counting semaphore with a FIFO queue and a wait limit: origin requests per site. With `perClient`
 * > 0, one client address holds at most that many slots at once; its further requests wait (in their
 * turn) while other clients' requests go ahead, so one address cannot fill every slot.
 */
export class Slots {
  private used = 0;
  private readonly waiting: Waiter[] = [];
  /** Slots held per client (only with perClient > 0). */
  private readonly held = new Map<string, number>();
  /** Waiters whose client was at its share when their turn came; they go back to the front of the queue when it releases one. */
  private readonly blocked = new Map<string, Waiter[]>();

  constructor(
    private readonly size: number,
    private readonly queueTimeoutSeconds: number,
    private readonly perClient = 0,
  ) {}

  get inUse(): number {
    return this.used;
  }

  get queued(): number {
    let n = this.waiting.length;
    for (const list of this.blocked.values()) n += list.length;
    return n;
  }

  /** Resolves with a release function (idempotent) once a slot is free; rejects with QueueTimeoutError or the signal's reason. */
  acquire(signal?: AbortSignal, client?: string): Promise<() => void> {
    const key = this.perClient > 0 ? client : undefined;
    const release = once(() => {
      this.used--;
      if (key !== undefined) {
        const n = (this.held.get(key) ?? 1) - 1;
        if (n > 0) this.held.set(key, n);
        else this.held.delete(key);
        const parked = this.blocked.get(key);
        const next = parked?.shift();
        if (next) this.waiting.unshift(next);
        if (parked && !parked.length) this.blocked.delete(key);
      }
      this.grantWaiting();
    });
    if (this.used < this.size && !this.atShare(key) && !this.waiting.length) {
      this.take(key);
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const entry: Waiter = {
        client: key,
        grant: () => resolve(release),
        timer: setTimeout(() => {
          this.remove(entry);
          reject(new QueueTimeoutError(this.queueTimeoutSeconds));
        }, this.queueTimeoutSeconds * 1000),
      };
      this.waiting.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          if (this.remove(entry)) {
            clearTimeout(entry.timer);
            reject(signal.reason);
          }
        },
        { once: true },
      );
      this.grantWaiting();
    });
  }

  private atShare(key: string | undefined): boolean {
    return key !== undefined && (this.held.get(key) ?? 0) >= this.perClient;
  }

  private take(key: string | undefined): void {
    this.used++;
    if (key !== undefined) this.held.set(key, (this.held.get(key) ?? 0) + 1);
  }

  /** Grants free slots in queue order, setting aside the waiters of clients at their share (each waiter is set aside at most once per release of its client). */
  private grantWaiting(): void {
    while (this.used < this.size && this.waiting.length) {
      const next = this.waiting.shift()!;
      if (this.atShare(next.client)) {
        const list = this.blocked.get(next.client!);
        if (list) list.push(next);
        else this.blocked.set(next.client!, [next]);
        continue;
      }
      clearTimeout(next.timer);
      this.take(next.client);
      next.grant();
    }
  }

  private remove(entry: Waiter): boolean {
    const i = this.waiting.indexOf(entry);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      return true;
    }
    const list = entry.client === undefined ? undefined : this.blocked.get(entry.client);
    const j = list ? list.indexOf(entry) : -1;
    if (j >= 0) {
      list!.splice(j, 1);
      if (!list!.length) this.blocked.delete(entry.client!);
    }
    return j >= 0;
  }
}

/** Calls `onEnd` once, with the bytes that passed, when a body stream ends, fails or is cancelled. */
export function onStreamEnd(body: ReadableStream<Uint8Array>, onEnd: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  const end = once(() => onEnd(bytes));
  return new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          bytes += value.length;
          controller.enqueue(value);
        }
      } catch (err) {
        end();
        controller.error(err);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
}
