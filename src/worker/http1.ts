import { connect } from 'cloudflare:sockets';
import { hasNoMessageBody } from '../http/status.ts';
import type { OriginRequest, OriginResponse } from '../proxy/origin-fetch.ts';

/**
 * A small HTTP/1.1 client over a Workers TCP socket (`cloudflare:sockets`), for the one thing the
 * runtime's fetch() cannot do: connect to one address (an origin's `upstream`) while sending another
 * Host (the origin's). Workers' fetch() always sends the Host of the URL it connects to.
 *
 * One request per connection (`Connection: close`); request bodies are sent with their Content-Length
 * or chunked; response bodies framed by chunked encoding, Content-Length or end of connection, and
 * gzip/deflate decoded (the only encodings DecompressionStream has, so only those are asked for, or
 * identity when the request says so). Another encoding is left in place, with its Content-Encoding:
 * origin-fetch.ts decides what to do with it.
 * Everything streams, pulled by the reader; closing or cancelling ends the connection.
 */

const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = new Uint8Array([13, 10]);
/** Request headers this client writes itself, or that must not cross a fresh connection. */
const OWN_REQUEST_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'upgrade', 'accept-encoding', 'proxy-connection']);
const DECODABLE: Record<string, 'gzip' | 'deflate'> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate' };

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function latin1Text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfHeadEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * Buffered reads from the socket. A BYOB reader with a 64 KiB buffer: the default reader hands JS
 * 4 KiB pieces, and every piece costs a trip through the rewriter (~1.1 s CPU per 32 MB measured).
 */
const READ_BYTES = 64 * 1024;

class SocketInput {
  buffer: Uint8Array = new Uint8Array(0);
  constructor(private readonly reader: ReadableStreamBYOBReader) {}

  /** Reads more bytes into the buffer; false at end of connection. */
  async fill(): Promise<boolean> {
    const { done, value } = await this.reader.read(new Uint8Array(READ_BYTES));
    if (done || !value) return false;
    this.buffer = concat(this.buffer, value);
    return true;
  }

  take(n: number): Uint8Array {
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }
}

interface ResponseHead {
  status: number;
  headers: Headers;
}

async function readHead(input: SocketInput): Promise<ResponseHead> {
  let searched = 0;
  for (;;) {
    const end = indexOfHeadEnd(input.buffer, searched - 3);
    if (end >= 0) {
      const lines = latin1Text(input.take(end + 4).subarray(0, end)).split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]!);
      if (!m) throw new Error(`malformed status line from origin: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
      const headers = new Headers();
      let last: [string, string] | null = null;
      const flush = () => {
        if (!last) return;
        try {
          headers.append(last[0], last[1].trim());
        } catch {
          // An invalid header name or value from the origin is dropped, as browsers do.
        }
        last = null;
      };
      for (const line of lines.slice(1)) {
        if (/^[ \t]/.test(line) && last) {
          last[1] += ` ${line.trim()}`; // obsolete line folding
          continue;
        }
        flush();
        const colon = line.indexOf(':');
        if (colon > 0) last = [line.slice(0, colon).trim(), line.slice(colon + 1)];
      }
      flush();
      return { status: Number(m[1]), headers };
    }
    if (input.buffer.length > MAX_HEAD_BYTES) throw new Error('origin response head too large');
    searched = input.buffer.length;
    if (!(await input.fill())) throw new Error('origin closed the connection before sending a response');
  }
}

/** Body bytes framed by chunked transfer coding; null at the end. */
async function readChunk(input: SocketInput, state: { left: number; done: boolean }): Promise<Uint8Array | null> {
  for (;;) {
    if (state.done) return null;
    if (state.left > 0) {
      if (input.buffer.length === 0 && !(await input.fill())) throw new Error('origin closed the connection inside a chunk');
      const piece = input.take(Math.min(state.left, input.buffer.length));
      state.left -= piece.length;
      if (state.left === 0) state.left = -1; // the chunk's trailing CRLF comes next
      return piece;
    }
    // A size line ("1a3f;ext\r\n"), or the CRLF after a chunk's data, or the trailer section after size 0.
    const lineEnd = findCrlf(input.buffer);
    if (lineEnd < 0) {
      if (input.buffer.length > MAX_HEAD_BYTES) throw new Error('malformed chunked body from origin');
      if (!(await input.fill())) throw new Error('origin closed the connection inside a chunked body');
      continue;
    }
    const line = latin1Text(input.take(lineEnd + 2).subarray(0, lineEnd));
    if (state.left === -1) {
      if (line !== '') throw new Error('malformed chunked body from origin');
      state.left = 0;
      continue;
    }
    if (state.left === -2) {
      // Trailers: skipped up to the empty line.
      if (line === '') state.done = true;
      continue;
    }
    const size = parseInt(line.split(';', 1)[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0 || !/^[0-9a-f]+$/i.test(line.split(';', 1)[0]!.trim())) throw new Error('malformed chunk size from origin');
    state.left = size === 0 ? -2 : size;
  }
}

function findCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  return -1;
}

export async function fetchOverSocket(req: OriginRequest, target: URL, host: string): Promise<OriginResponse> {
  if (target.protocol !== 'http:') throw new TypeError(`a socket upstream must be http: (got ${target.protocol})`);
  req.signal.throwIfAborted();
  const socket = connect({ hostname: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 80) }, { allowHalfOpen: false });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    req.signal.removeEventListener('abort', close);
    socket.close().catch(() => {});
  };
  req.signal.addEventListener('abort', close, { once: true });

  try {
    await socket.opened;
    const acceptEncoding = req.headers.get('accept-encoding')?.trim().toLowerCase() === 'identity' ? 'identity' : 'gzip, deflate';
    const lines = [`${req.method} ${target.pathname}${target.search} HTTP/1.1`, `host: ${host}`, 'connection: close', `accept-encoding: ${acceptEncoding}`];
    for (const [name, value] of req.headers) if (!OWN_REQUEST_HEADERS.has(name)) lines.push(`${name}: ${value}`);
    const length = req.headers.get('content-length');
    const chunked = req.body !== null && (length === null || !/^\d+$/.test(length));
    if (req.body && !chunked) lines.push(`content-length: ${length}`);
    else if (chunked) lines.push('transfer-encoding: chunked');
    else if (!['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method)) lines.push('content-length: 0');
    const writer = socket.writable.getWriter();
    await writer.write(latin1Bytes(`${lines.join('\r\n')}\r\n\r\n`));
    if (req.body) {
      // Sent alongside reading the response: an origin may answer before it has read the whole body.
      const body = req.body;
      (async () => {
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value.length === 0) continue;
          if (chunked) await writer.write(latin1Bytes(`${value.length.toString(16)}\r\n`));
          await writer.write(value);
          if (chunked) await writer.write(CRLF);
        }
        if (chunked) await writer.write(latin1Bytes('0\r\n\r\n'));
        writer.releaseLock();
      })().catch(close);
    } else {
      writer.releaseLock();
    }

    const input = new SocketInput(socket.readable.getReader({ mode: 'byob' }));
    let head = await readHead(input);
    while (head.status >= 100 && head.status < 200 && head.status !== 101) head = await readHead(input);
    const { status, headers } = head;

    if (hasNoMessageBody(req.method, status)) {
      close();
      return { status, headers, body: null };
    }
    const te = headers.get('transfer-encoding');
    const isChunked = te !== null && /(^|,)\s*chunked\s*$/i.test(te);
    const declared = headers.get('content-length');
    let remaining = !isChunked && declared !== null && /^\d+$/.test(declared.trim()) ? Number(declared) : -1;
    const chunkState = { left: 0, done: false };

    let body: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          let piece: Uint8Array | null;
          if (isChunked) {
            piece = await readChunk(input, chunkState);
          } else if (remaining === 0) {
            piece = null;
          } else {
            if (input.buffer.length === 0 && !(await input.fill())) {
              if (remaining > 0) throw new Error('origin closed the connection before the end of the body');
              piece = null;
            } else {
              piece = input.take(remaining > 0 ? Math.min(remaining, input.buffer.length) : input.buffer.length);
              if (remaining > 0) remaining -= piece.length;
            }
          }
          if (piece === null) {
            controller.close();
            close();
          } else if (piece.length > 0) {
            controller.enqueue(piece);
          }
        } catch (err) {
          close();
          controller.error(err);
        }
      },
      cancel() {
        close();
      },
    });

    const encoding = headers.get('content-encoding')?.trim().toLowerCase();
    const format = encoding && status !== 206 ? DECODABLE[encoding] : undefined;
    if (format) {
      body = body.pipeThrough(new DecompressionStream(format));
      headers.delete('content-encoding');
      headers.delete('content-length');
    }
    return { status, headers, body };
  } catch (err) {
    close();
    throw err;
  }
}
