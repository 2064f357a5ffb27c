/**
 * One origin body, read once, streamed to several readers (coalesced requests for the same page) and,
 * while it fits, kept whole for the cache. The source is read only when some reader (or drain()) asks
 * for more, so the fastest reader sets the pace; chunks are dropped once every reader has passed them,
 * unless the cache is still keeping them. When every reader cancels and nobody drains, the source is
 * cancelled (the origin request ends).
 */
export class BodyBroadcast {
  private chunks: Uint8Array[] = [];
  /** Index (in the whole body) of chunks[0]. */
  private first = 0;
  private bytes = 0;
  private done = false;
  private failed: { error: unknown } | null = null;
  private readonly readers = new Set<{ next: number }>();
  private reading: Promise<void> | null = null;
  private keeping: boolean;
  private draining = false;
  private finished = false;
  private resolveCompleted!: () => void;
  /** Settles once the body can no longer be joined from its start (kept whole, abandoned or failed). */
  readonly completed = new Promise<void>((resolve) => (this.resolveCompleted = resolve));

  constructor(
    private readonly source: ReadableStreamDefaultReader<Uint8Array>,
    private readonly maxKeep: number,
    /** Called once: with the whole body if it was kept to the end, else with null. */
    private readonly onComplete: (body: Uint8Array | null) => void,
  ) {
    this.keeping = maxKeep > 0;
  }

  /** True while every chunk so far is still held, so a new reader can start from the beginning. */
  get joinable(): boolean {
    return this.keeping && !this.failed && !this.finished;
  }

  subscribe(): ReadableStream<Uint8Array> {
    const reader = { next: this.first };
    this.readers.add(reader);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          const i = reader.next - this.first;
          if (i < this.chunks.length) {
            controller.enqueue(this.chunks[i]!);
            reader.next++;
            this.trim();
            // Caught up: read one chunk ahead, so the end of the body (and the cache store) is seen
            // as soon as the origin finishes, not on this reader's next pull.
            if (reader.next === this.first + this.chunks.length && !this.done && !this.failed) this.readMore().catch(() => {});
            return;
          }
          if (this.failed) {
            this.readers.delete(reader);
            controller.error(this.failed.error);
            return;
          }
          if (this.done) {
            this.readers.delete(reader);
            controller.close();
            return;
          }
          await this.readMore();
        }
      },
      cancel: () => {
        this.readers.delete(reader);
        this.trim();
        if (this.readers.size === 0 && !this.draining) this.abort();
      },
    });
  }

  /** Reads the body to its end with no reader (background refresh, or filling the cache for others). */
  drain(): Promise<void> {
    this.draining = true;
    const step = async (): Promise<void> => {
      while (!this.done && !this.failed) await this.readMore();
    };
    return step();
  }

  private readMore(): Promise<void> {
    this.reading ??= this.source.read().then(
      ({ done, value }) => {
        this.reading = null;
        if (done) {
          this.done = true;
          this.complete();
          return;
        }
        this.chunks.push(value);
        this.bytes += value.length;
        if (this.keeping && this.bytes > this.maxKeep) {
          this.keeping = false;
          this.complete();
        }
        this.trim();
      },
      (error) => {
        this.reading = null;
        this.failed = { error };
        this.keeping = false;
        this.complete();
      },
    );
    return this.reading;
  }

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    queueMicrotask(this.resolveCompleted);
    if (this.keeping && this.done) {
      const body = new Uint8Array(this.bytes);
      let at = 0;
      for (const c of this.chunks) {
        body.set(c, at);
        at += c.length;
      }
      this.keeping = false;
      this.onComplete(body);
      this.trim();
    } else {
      this.onComplete(null);
    }
  }

  private trim(): void {
    if (this.keeping) return;
    let min = this.first + this.chunks.length;
    for (const r of this.readers) min = Math.min(min, r.next);
    if (min > this.first) {
      this.chunks.splice(0, min - this.first);
      this.first = min;
    }
  }

  private abort(): void {
    if (this.done || this.failed) return;
    this.failed = { error: new Error('all readers left') };
    this.keeping = false;
    this.chunks = [];
    this.complete();
    this.source.cancel().catch(() => {});
  }
}
