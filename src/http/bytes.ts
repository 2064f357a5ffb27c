/** Byte helpers shared by the body readers. */

/**
 * The chunks as one array (a single whole chunk is returned as it is, not copied); `total` is their
 * summed length when the caller already knows it.
 */
export function concatBytes(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Reads a body to its end, or until more than `cap` bytes have come (then the rest is cancelled and
 * `overflowed` is set; `bytes` holds what came, the chunk that crossed the cap included).
 */
export async function readBytes(body: ReadableStream<Uint8Array> | null, cap: number): Promise<{ bytes: Uint8Array; overflowed: boolean }> {
  if (!body) return { bytes: new Uint8Array(), overflowed: false };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return { bytes: concatBytes(chunks, total), overflowed: true };
    }
  }
  return { bytes: concatBytes(chunks, total), overflowed: false };
}
