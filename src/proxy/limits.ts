/** Bounds on what one reader can make the mirror do: request bodies and origin concurrency. */

export class PayloadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
  }
}

export class QueueTimeoutError extends Error {
  constructor(seconds: number) {
    super(`no origin slot free within ${seconds} s`);
    this.name = 'QueueTimeoutError';
  }
}

/** Passes a request body through, failing it once more than `limit` bytes have gone by. */
export function limitBody(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.length;
      if (seen > limit) {
        reader.cancel().catch(() => {});
        controller.error(new PayloadTooLargeError(limit));
        return;
      }
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** A counting semaphore with a FIFO queue and a wait limit: origin requests per site. */
export class Slots {
  private used = 0;
  private readonly waiting: { grant: () => void; timer: ReturnType<typeof setTimeout> }[] = [];

  constructor(
    private readonly size: number,
    private readonly queueTimeoutSeconds: number,
  ) {}

  get inUse(): number {
    return this.used;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function (idempotent) once a slot is free; rejects with QueueTimeoutError or the signal's reason. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const release = once(() => {
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant();
      } else {
        this.used--;
      }
    });
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const entry = {
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
    });
  }

  private remove(entry: (typeof this.waiting)[number]): boolean {
    const i = this.waiting.indexOf(entry);
    if (i >= 0) this.waiting.splice(i, 1);
    return i >= 0;
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}

/** Calls `onEnd` once, with the bytes that passed, when a body stream ends, fails or is cancelled. */
export function onStreamEnd(body: ReadableStream<Uint8Array>, onEnd: (bytes: number) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let bytes = 0;
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd(bytes);
    }
  };
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
