/**
 * What the cache keeps, and the storage interface the HTTP cache logic uses. Node keeps records in
 * memory (memory-store.ts); Workers in the Cache API. The logic in http-cache.ts does not know which.
 */

/** A rewritten response as the reader receives it, before client compression. */
export interface StoredResponse {
  kind: 'response';
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** Epoch ms when the response was received from the origin. */
  storedAt: number;
  /** The origin's Age (s) at that moment. */
  initialAge: number;
  /** Epoch ms: fresh until, served stale (and refreshed) until, served on origin errors until. */
  freshUntil: number;
  staleWhileRevalidateUntil: number;
  staleIfErrorUntil: number;
  /** The origin said `public`: may be served to requests carrying Cookie or Authorization. */
  public: boolean;
  /** Request header names this response varies on (lower case), and their values when stored. */
  vary: string[];
}

/** Stored at a URL's primary key when its responses vary: the variants live under variant keys. */
export interface VaryRecord {
  kind: 'vary';
  vary: string[];
  /** Epoch ms after which the record may be dropped. */
  expiresAt: number;
}

export type CacheRecord = StoredResponse | VaryRecord;

export interface CacheStore {
  get(key: string): Promise<CacheRecord | undefined>;
  set(key: string, record: CacheRecord): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Deletes every key starting with `prefix`; returns how many were dropped, or null when the store cannot list its keys. */
  deletePrefix(prefix: string): Promise<number | null>;
  /** For metrics: bytes and entries held, where the store can tell. */
  stats(): { bytes: number; entries: number } | null;
}

export function recordBytes(record: CacheRecord): number {
  if (record.kind === 'vary') return 64 + record.vary.join().length;
  let size = 256 + record.body.length;
  for (const [name, value] of record.headers) size += name.length + value.length + 16;
  return size;
}
