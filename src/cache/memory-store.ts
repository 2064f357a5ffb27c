import { LRUCache } from 'lru-cache';
import { recordBytes, type CacheRecord, type CacheStore } from './store.ts';

/** In-memory LRU store bounded in bytes (cache.maxBytes), for Node. */
export class MemoryStore implements CacheStore {
  private readonly lru: LRUCache<string, CacheRecord>;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, CacheRecord>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (record) => Math.max(1, recordBytes(record)),
    });
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    return this.lru.get(key);
  }

  async set(key: string, record: CacheRecord): Promise<void> {
    this.lru.set(key, record);
  }

  async delete(key: string): Promise<boolean> {
    return this.lru.delete(key);
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix) && this.lru.delete(key)) n++;
    }
    return n;
  }

  stats(): { bytes: number; entries: number } {
    return { bytes: this.lru.calculatedSize, entries: this.lru.size };
  }
}
