import type { CacheRecord, CacheStore } from '../cache/store.ts';

/**
 * The cache store on Workers: Cloudflare's Cache API (`caches.default`), local to each data centre.
 * Each record is a Response under a synthetic URL; the record's fields travel in a header, the body is
 * the response body. Bodies arrive whole (the cache's fill kept them while streaming to the reader,
 * and only once the origin body ended cleanly within maxEntryBytes), so a cut body is never put.
 * The Cache API cannot list keys, so prefix purges are not possible here (deletePrefix answers null).
 */
const KEY_BASE = 'https://edgemirror-cache.invalid/';
const META = 'x-edgemirror-record';

export class CacheApiStore implements CacheStore {
  constructor(private readonly cache: Cache) {}

  private url(key: string): string {
    return KEY_BASE + encodeURIComponent(key);
  }

  /** Kept by the Cache API until the record may still be served (stale-if-error included). */
  private static retention(until: number): string {
    return `public, max-age=${Math.max(1, Math.ceil((until - Date.now()) / 1000))}`;
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    const hit = await this.cache.match(this.url(key));
    if (!hit) return undefined;
    const meta = hit.headers.get(META);
    if (!meta) return undefined;
    const record = JSON.parse(decodeURIComponent(meta)) as CacheRecord;
    if (record.kind === 'vary') return record;
    // One native read of the whole body: cached pages are small, and serving needs it more than once.
    return { ...record, body: new Uint8Array(await hit.arrayBuffer()) };
  }

  async set(key: string, record: CacheRecord): Promise<void> {
    const until = record.kind === 'vary' ? record.expiresAt : record.staleIfErrorUntil;
    const { body, ...meta } = record.kind === 'response' ? record : { ...record, body: null };
    await this.cache.put(this.url(key), new Response(body as BodyInit | null, { headers: this.headers(meta, until) }));
  }

  private headers(meta: object, until: number): Headers {
    return new Headers({ [META]: encodeURIComponent(JSON.stringify(meta)), 'cache-control': CacheApiStore.retention(until) });
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(this.url(key));
  }

  async deletePrefix(): Promise<null> {
    return null;
  }

  stats(): null {
    return null;
  }
}
