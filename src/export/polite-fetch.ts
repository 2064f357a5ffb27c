import { onStreamEnd } from '../proxy/limits.ts';
import type { OriginFetch, OriginRequest, OriginResponse } from '../proxy/origin-fetch.ts';

/**
 * An origin client that is polite to the origin, for batch work (the export): at most `concurrency`
 * requests in flight (a slot is held until the body is read), at least `delayMs` between two request
 * starts, and failed attempts (network errors, 429, 5xx) retried `retries` times with exponential
 * backoff. Wraps the runtime's OriginFetch; the pipeline's own timeout still bounds each request.
 */
export interface PoliteOptions {
  concurrency: number;
  delayMs: number;
  retries: number;
  /** First backoff; doubles per attempt. */
  backoffMs: number;
  /** Told about each retry (for the summary). */
  onRetry?(url: string, attempt: number, reason: string): void;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function politeOriginFetch(inner: OriginFetch, opts: PoliteOptions): OriginFetch {
  const concurrency = Math.max(1, opts.concurrency);
  let active = 0;
  const waiting: (() => void)[] = [];
  let head = 0;
  /** Request starts pass through this chain one at a time, each at least delayMs after the one before. */
  let gate: Promise<void> = Promise.resolve();
  let lastStart = -Infinity;

  function spaced(signal: AbortSignal): Promise<void> {
    const turn = gate.then(async () => {
      const wait = lastStart + opts.delayMs - Date.now();
      if (wait > 0 && !signal.aborted) await sleep(wait, signal).catch(() => {});
      // The actual start, not the planned one: timers that fire late do not bunch requests up.
      if (!signal.aborted) lastStart = Date.now();
    });
    gate = turn;
    return turn.then(() => {
      if (signal.aborted) throw signal.reason;
    });
  }

  async function acquire(signal: AbortSignal): Promise<() => void> {
    if (active >= concurrency) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          // Leave the queue entry in place but make it pass the slot on when reached.
          waiting[waiting.indexOf(wake)] = () => release();
          reject(signal.reason);
        };
        waiting.push(wake);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } else active++;
    // Spacing between starts: the slot is taken first, then the turn to start.
    if (opts.delayMs > 0) {
      try {
        await spaced(signal);
      } catch (err) {
        release();
        throw err;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }

  function release(): void {
    if (head < waiting.length) {
      const next = waiting[head]!;
      waiting[head++] = () => {};
      if (head > 1024 && head * 2 > waiting.length) {
        waiting.splice(0, head);
        head = 0;
      }
      next(); // the slot passes on: `active` stays the same
    } else active--;
  }

  return async function fetchPolitely(req: OriginRequest): Promise<OriginResponse> {
    for (let attempt = 0; ; attempt++) {
      const done = await acquire(req.signal);
      let res: OriginResponse;
      try {
        res = await inner(req);
      } catch (err) {
        done();
        if (req.signal.aborted || attempt >= opts.retries) throw err;
        opts.onRetry?.(req.url, attempt + 1, String((err as Error)?.message ?? err));
        await sleep(opts.backoffMs * 2 ** attempt, req.signal);
        continue;
      }
      if (RETRY_STATUS.has(res.status) && attempt < opts.retries) {
        done();
        await res.body?.cancel().catch(() => {});
        opts.onRetry?.(req.url, attempt + 1, `status ${res.status}`);
        await sleep(opts.backoffMs * 2 ** attempt, req.signal);
        continue;
      }
      if (!res.body) {
        done();
        return res;
      }
      return { ...res, body: onStreamEnd(res.body, done) };
    }
  };
}
