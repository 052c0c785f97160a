// cache/: resolves a key through the tiers L1 → (L2) → store, caching what it finds — absent
// records too, briefly — and coalescing concurrent misses for one key into one store query.
// Store down: a positive record read less than `staleMaxMs` ago is served from L1 instead;
// anything else fails with StoreReadFailed (503, never 401).
// /!\ Hot path.
import type { Cached, L1Cache } from './l1.js';
import type { SharedCacheTier, Tier } from './tier.js';

export interface Resolved<T> {
  value: T | undefined;
  /** The tier that answered. */
  tier: Tier;
  /** True when the store was down and a record past its TTL, within the stale bound, answered. */
  stale?: boolean;
}

/** Thrown when the store cannot be read: the caller answers 503, never 401. */
export class StoreReadFailed extends Error {
  readonly code = 'StoreReadFailed';
  constructor(readonly key: string, cause: unknown) {
    super(`store read failed for ${key.split(':')[0]}`, { cause });
  }
}

export interface ResolverOptions {
  /** Store down: how old (since its store read) a positive record may be and still be served. */
  staleMaxMs?: number;
}

interface Miss {
  promise: Promise<Resolved<unknown>>;
  /** Set when the key is evicted while the look-up runs: its (possibly old) answer is not cached. */
  invalidated: boolean;
}

export class TieredResolver {
  private readonly inFlight = new Map<string, Miss>();

  constructor(
    private readonly l1: L1Cache,
    private readonly l2?: SharedCacheTier,
    private readonly opts: ResolverOptions = {},
  ) {}

  resolve<T>(key: string, load: () => Promise<T | undefined>): Promise<Resolved<T>> | Resolved<T> {
    const hit = this.l1.get<T>(key);
    if (hit) return { value: hit.value ?? undefined, tier: 'l1' };
    let pending = this.inFlight.get(key);
    if (!pending) {
      const miss: Miss = { promise: undefined as never, invalidated: false };
      miss.promise = this.miss(key, load, miss).finally(() => {
        if (this.inFlight.get(key) === miss) this.inFlight.delete(key);
      });
      this.inFlight.set(key, miss);
      pending = miss;
    }
    return pending.promise as Promise<Resolved<T>>;
  }

  /** Forgets keys in this process (an eviction message, the change feed, a local write). */
  evict(keys: readonly string[]): void {
    for (const key of keys) {
      this.l1.evict(key);
      const miss = this.inFlight.get(key);
      if (miss) {
        miss.invalidated = true;
        this.inFlight.delete(key);
      }
    }
  }

  /** Forgets everything in this process (eviction messages may have been lost). */
  clear(): void {
    this.l1.clear();
    for (const miss of this.inFlight.values()) miss.invalidated = true;
    this.inFlight.clear();
  }

  private async miss<T>(key: string, load: () => Promise<T | undefined>, miss: Miss): Promise<Resolved<T>> {
    if (this.l2) {
      const shared = await this.l2.get<T>(key);
      if (shared) {
        if (!miss.invalidated) this.l1.set(key, shared);
        return { value: shared.value ?? undefined, tier: 'l2' };
      }
    }
    const at = Date.now();
    let value: T | undefined;
    try {
      value = await load();
    } catch (e) {
      const old = this.l1.stale<T>(key);
      if (old && Date.now() - old.at <= (this.opts.staleMaxMs ?? 0)) return { value: old.value!, tier: 'l1', stale: true };
      throw new StoreReadFailed(key, e);
    }
    const entry: Cached<T> = { value: value ?? null, at };
    if (!miss.invalidated) {
      this.l1.set(key, entry);
      // Not awaited: the caller has its answer; the tier never throws.
      if (this.l2) void this.l2.set(key, entry);
    }
    return { value, tier: 'store' };
  }
}
