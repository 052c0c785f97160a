// cache/: L1, the in-process LRU (lru-cache). Holds positive records and "absent" markers, each
// with its own TTL, so L1 staleness is bounded even if an eviction message is lost. Positive
// records are kept past their TTL up to the stale bound, but only handed out as such (`stale`)
// for the store-down fallback; `get` never returns an entry past its TTL.
// /!\ Hot path.
import { LRUCache } from 'lru-cache';

/** A cached look-up result: the record, or null for "known to be absent", and when the store said so. */
export interface Cached<T = unknown> {
  value: T | null;
  /** When the record was read from the store (epoch ms): what the stale bound is measured from. */
  at: number;
}

export interface L1Options {
  maxEntries: number;
  ttlMs: number;
  negativeTtlMs: number;
  /** How long a positive record is retained for the store-down fallback (0 = not past its TTL). */
  staleMaxMs?: number;
}

interface Slot {
  entry: Cached;
  /** Fresh until (epoch ms); after that only `stale` sees it. */
  freshUntil: number;
}

export class L1Cache {
  private readonly lru: LRUCache<string, Slot>;
  private readonly retainMs: number;

  constructor(private readonly opts: L1Options) {
    this.retainMs = Math.max(opts.ttlMs, opts.staleMaxMs ?? 0);
    this.lru = new LRUCache<string, Slot>({ max: opts.maxEntries, ttl: this.retainMs, ttlAutopurge: false });
  }

  get<T>(key: string, now = Date.now()): Cached<T> | undefined {
    const slot = this.lru.get(key);
    if (!slot || now >= slot.freshUntil) return undefined;
    return slot.entry as Cached<T>;
  }

  /** A positive record still retained, however old (the caller applies the stale bound). */
  stale<T>(key: string): Cached<T> | undefined {
    const slot = this.lru.get(key, { allowStale: false });
    return slot && slot.entry.value !== null ? (slot.entry as Cached<T>) : undefined;
  }

  set<T>(key: string, entry: Cached<T>, now = Date.now()): void {
    if (entry.value === null) {
      if (this.opts.negativeTtlMs === 0) return;
      this.lru.set(key, { entry, freshUntil: now + this.opts.negativeTtlMs }, { ttl: this.opts.negativeTtlMs });
      return;
    }
    this.lru.set(key, { entry, freshUntil: now + this.opts.ttlMs }, { ttl: this.retainMs });
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
