/** Reading whole bodies, always with a cap. */

export class TooLargeError extends Error {}

export async function readCapped(body: ReadableStream<Uint8Array> | null, cap: number, what: string): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      throw new TooLargeError(`${what} is larger than ${cap} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** What one HTML pass may make of a page of at most maxPageBytes (injected nav and footer, resolved URLs). */
const MAX_PASS_OUTPUT = 256 * 1024 * 1024;

export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readCapped(stream, MAX_PASS_OUTPUT, 'rewritten page'));
}

