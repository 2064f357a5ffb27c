import { concatBytes } from '../http/bytes.ts';
/**
 * Bytes that cache fills in flight may hold in memory together (each fill keeps its body whole until it
 * is stored). A fill that would go past it stops keeping: the body still streams to its readers, and
 * is simply not cached. Without it, many slow readers of different pages each hold up to maxEntryBytes.
 */
export class FillBudget {
  private used = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  take(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

const UNLIMITED = new FillBudget(Number.POSITIVE_INFINITY);

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

  /** Bytes taken from the budget (the kept chunks), given back when keeping ends. */
  private reserved = 0;

  constructor(
    private readonly source: ReadableStreamDefaultReader<Uint8Array>,
    /** Keep the body whole for the cache up to this many bytes (0: keep nothing, only stream). */
    private readonly maxKeep: number,
    /** Called once: with the whole body if it was kept to the end (the source ended cleanly), else with null. */
    private readonly onComplete: (body: Uint8Array | null) => void,
    private readonly budget: FillBudget = UNLIMITED,
  ) {
    this.keeping = maxKeep > 0;
  }

  /** Still keeping the body for the cache. */
  get keepingBody(): boolean {
    return this.keeping;
  }

  /**
   * True while a new reader can still start from the beginning: every chunk so far is still held, or
   * nothing has been read from the source yet.
   */
  get joinable(): boolean {
    if (this.failed) return false;
    if (this.first === 0 && this.chunks.length === 0 && !this.done) return true;
    return this.keeping && !this.finished;
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
        if (this.keeping && (this.bytes > this.maxKeep || !this.budget.take(value.length))) {
          this.stopKeeping();
          this.complete();
        } else if (this.keeping) {
          this.reserved += value.length;
        }
        this.trim();
      },
      (error) => {
        this.reading = null;
        this.failed = { error };
        this.stopKeeping();
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
      const body = concatBytes(this.chunks, this.bytes);
      this.stopKeeping();
      this.onComplete(body);
      this.trim();
    } else {
      this.onComplete(null);
    }
  }

  private stopKeeping(): void {
    this.keeping = false;
    this.budget.give(this.reserved);
    this.reserved = 0;
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
    this.stopKeeping();
    this.chunks = [];
    this.complete();
    this.source.cancel().catch(() => {});
  }
}
