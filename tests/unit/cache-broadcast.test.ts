import { describe, expect, it } from 'vitest';
import { BodyBroadcast, FillBudget } from '../../src/cache/broadcast.ts';

function source(chunks: Uint8Array[], fail?: Error): ReadableStreamDefaultReader<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else if (fail) controller.error(fail);
      else controller.close();
    },
  }).getReader();
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number> {
  let n = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

const bytes = (n: number) => new Uint8Array(n).fill(97);

describe('BodyBroadcast (cache fills)', () => {
  it('hands the whole body to the cache only when the source ended cleanly', async () => {
    const kept: (Uint8Array | null)[] = [];
    const ok = new BodyBroadcast(source([bytes(10), bytes(10)]), 100, (b) => kept.push(b));
    expect(await readAll(ok.subscribe())).toBe(20);
    const cut = new BodyBroadcast(source([bytes(10)], new Error('origin reset')), 100, (b) => kept.push(b));
    await expect(readAll(cut.subscribe())).rejects.toThrow('origin reset');
    expect(kept.map((b) => b?.length ?? null)).toEqual([20, null]);
  });

  it('stops keeping past maxKeep, and the readers still get every byte', async () => {
    const kept: (Uint8Array | null)[] = [];
    const b = new BodyBroadcast(source([bytes(60), bytes(60)]), 100, (body) => kept.push(body));
    expect(await readAll(b.subscribe())).toBe(120);
    expect(kept).toEqual([null]);
  });

  it('shares one in-flight budget: a fill that would pass it is abandoned, and gives back what it held', async () => {
    const budget = new FillBudget(100);
    const kept: (string | null)[] = [];
    const a = new BodyBroadcast(source([bytes(40), bytes(40)]), 1000, (body) => kept.push(body ? `a${body.length}` : 'a-'), budget);
    const b = new BodyBroadcast(source([bytes(40), bytes(40)]), 1000, (body) => kept.push(body ? `b${body.length}` : 'b-'), budget);
    let peak = 0;
    const watch = async (stream: ReadableStream<Uint8Array>) => {
      const reader = stream.getReader();
      for (;;) {
        peak = Math.max(peak, budget.inUse);
        if ((await reader.read()).done) return;
      }
    };
    await Promise.all([watch(a.subscribe()), watch(b.subscribe())]);
    // 160 bytes would be needed; only one fill fits, the other streams on without being kept.
    expect(peak).toBeLessThanOrEqual(100);
    expect([...kept].sort()).toEqual(kept.includes('a80') ? ['a80', 'b-'] : ['a-', 'b80']);
    expect(budget.inUse).toBe(0);
  });

  it('lets a new reader join from the start while nothing has been read, even when keeping nothing', async () => {
    const b = new BodyBroadcast(source([bytes(10), bytes(10)]), 0, () => {});
    expect(b.joinable).toBe(true);
    const first = b.subscribe();
    const second = b.subscribe();
    const [x, y] = await Promise.all([readAll(first), readAll(second)]);
    expect([x, y]).toEqual([20, 20]);
    expect(b.joinable).toBe(false);
  });
});
