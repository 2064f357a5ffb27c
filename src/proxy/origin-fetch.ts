/**
 * How the pipeline reaches an origin; each runtime provides one (src/node/, src/worker/).
 * The response body must already be decoded (no Content-Encoding, no stale Content-Length),
 * and redirects must be returned, never followed.
 */
export interface OriginRequest {
  /** Where to connect: the origin's `upstream` or public URL, plus path and query. */
  url: string;
  method: string;
  /** Includes the origin's Host. */
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
}

export interface OriginResponse {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

export type OriginFetch = (request: OriginRequest) => Promise<OriginResponse>;

export { OriginTimeoutError } from '../http/errors.ts';
