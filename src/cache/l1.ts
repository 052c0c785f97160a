// cache/: L1, the in-process LRU (lru-cache). Holds positive records and "absent" markers, each
// with its own TTL, so L1 staleness is bounded even if an eviction message is lost.
// /!\ Hot path.
import { LRUCache } from 'lru-cache';

/** A cached look-up result: the record, or null for "known to be absent". */
export interface Cached<T = unknown> {
  value: T | null;
}

export interface L1Options {
  maxEntries: number;
  ttlMs: number;
  negativeTtlMs: number;
}

export class L1Cache {
  private readonly lru: LRUCache<string, Cached>;

  constructor(private readonly opts: L1Options) {
    this.lru = new LRUCache<string, Cached>({ max: opts.maxEntries, ttl: opts.ttlMs, ttlAutopurge: false });
  }

  get<T>(key: string): Cached<T> | undefined {
    return this.lru.get(key) as Cached<T> | undefined;
  }

  set<T>(key: string, entry: Cached<T>): void {
    if (entry.value === null && this.opts.negativeTtlMs === 0) return;
    this.lru.set(key, entry, { ttl: entry.value === null ? this.opts.negativeTtlMs : this.opts.ttlMs });
  }

  evict(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  get size(): number {
    return this.lru.size;
  }
}
