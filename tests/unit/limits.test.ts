import { describe, expect, it } from 'vitest';
import { BodyTimeoutError, PayloadTooLargeError, readAhead, readRequestBody, Slots } from '../../src/proxy/limits.ts';

const bytes = (n: number, fill = 97) => new Uint8Array(n).fill(fill);
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A source that hands out `chunks` then ends (or fails with `error`), counting how many were read. */
function source(chunks: Uint8Array[], error?: Error) {
  let read = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (read < chunks.length) controller.enqueue(chunks[read++]!);
      else if (error) controller.error(error);
      else controller.close();
    },
  }, { highWaterMark: 0 });
  return { stream, read: () => read };
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) n += c.length;
  return n;
}

describe('per-client share of origin slots', () => {
  it('one client address holds at most perClient slots; another client is served at once while it waits', async () => {
    const slots = new Slots(4, 5, 2);
    const a1 = await slots.acquire(undefined, 'a');
    await slots.acquire(undefined, 'a');
    let a3: (() => void) | null = null;
    void slots.acquire(undefined, 'a').then((r) => (a3 = r));
    await tick();
    expect(a3).toBeNull();
    const b = await slots.acquire(undefined, 'b'); // not behind the waiting 'a'
    expect(slots.inUse).toBe(3);
    a1();
    await tick();
    expect(a3).not.toBeNull();
    expect(slots.inUse).toBe(3);
    b();
  });

  it('without a share (0) the queue is plain FIFO over all clients', async () => {
    const slots = new Slots(2, 5, 0);
    await slots.acquire(undefined, 'a');
    const r = await slots.acquire(undefined, 'a');
    const order: string[] = [];
    void slots.acquire(undefined, 'a').then(() => order.push('a'));
    void slots.acquire(undefined, 'b').then(() => order.push('b'));
    r();
    await tick();
    expect(order).toEqual(['a']);
  });

  it('a waiting client at its share still times out with 503 material (QueueTimeoutError)', async () => {
    const slots = new Slots(4, 0.05, 1);
    await slots.acquire(undefined, 'a');
    await expect(slots.acquire(undefined, 'a')).rejects.toMatchObject({ name: 'QueueTimeoutError' });
    expect(slots.queued).toBe(0);
  });
});

describe('read-ahead of origin bodies', () => {
  it('parks (once) when `limit` bytes wait on a consumer that does not read, and then delivers every byte in order', async () => {
    const src = source(Array.from({ length: 20 }, (_, i) => bytes(1000, i)));
    let parked = 0;
    const out = readAhead(src.stream, 4000, () => parked++);
    for (let i = 0; i < 20; i++) await tick();
    expect(parked).toBe(1);
    expect(src.read()).toBeLessThanOrEqual(6); // limit + the chunk that crossed it + one in flight
    const reader = out.getReader();
    const seen: number[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      seen.push(value[0]!);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(parked).toBe(1);
  });

  it('reads a body that fits within the limit to its end without any consumer (the slot is freed by its end, not parked)', async () => {
    const src = source([bytes(100), bytes(100)]);
    let parked = 0;
    const out = readAhead(src.stream, 4000, () => parked++);
    for (let i = 0; i < 10; i++) await tick();
    expect(src.read()).toBe(2);
    expect(parked).toBe(0);
    expect(await drain(out)).toBe(200);
  });

  it('delivers an origin error after the bytes that came before it', async () => {
    const src = source([bytes(10)], new Error('origin reset'));
    const reader = readAhead(src.stream, 4000, () => {}).getReader();
    expect((await reader.read()).value?.length).toBe(10);
    await expect(reader.read()).rejects.toThrow('origin reset');
  });
});

describe('request bodies before an origin slot', () => {
  it('reads a whole body', async () => {
    const body = await readRequestBody(source([bytes(10), bytes(5)]).stream, 100, 5);
    expect(body.length).toBe(15);
  });

  it('fails past maxBodyBytes with PayloadTooLargeError', async () => {
    await expect(readRequestBody(source([bytes(60), bytes(60)]).stream, 100, 5)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('fails a body that does not finish in time with BodyTimeoutError', async () => {
    const never = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    await expect(readRequestBody(never, 100, 0.05)).rejects.toBeInstanceOf(BodyTimeoutError);
  });
});
