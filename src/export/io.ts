import { readBytes } from '../http/bytes.ts';

/** Reading whole bodies, always with a cap. */

export class TooLargeError extends Error {}

export async function readCapped(body: ReadableStream<Uint8Array> | null, cap: number, what: string): Promise<Uint8Array> {
  const { bytes, overflowed } = await readBytes(body, cap);
  if (overflowed) throw new TooLargeError(`${what} is larger than ${cap} bytes`);
  return bytes;
}

/** What one HTML pass may make of a page of at most maxPageBytes (injected nav and footer, resolved URLs). */
const MAX_PASS_OUTPUT = 256 * 1024 * 1024;

export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder().decode(await readCapped(stream, MAX_PASS_OUTPUT, 'rewritten page'));
}

