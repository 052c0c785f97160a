// cache/: resolves a key through the tiers L1 → (L2) → store, caching what it finds — absent
// records too, briefly — and coalescing concurrent misses for one key into one store query.
// /!\ Hot path.
import type { Cached, L1Cache } from './l1.js';
import type { SharedCacheTier, Tier } from './tier.js';

export interface Resolved<T> {
  value: T | undefined;
  /** The tier that answered. */
  tier: Tier;
}

/** Thrown when the store cannot be read: the caller answers 503, never 401. */
export class StoreReadFailed extends Error {
  readonly code = 'StoreReadFailed';
  constructor(readonly key: string, cause: unknown) {
    super(`store read failed for ${key.split(':')[0]}`, { cause });
  }
}

export class TieredResolver {
  private readonly inFlight = new Map<string, Promise<Resolved<unknown>>>();

  constructor(
    private readonly l1: L1Cache,
    private readonly l2?: SharedCacheTier,
  ) {}

  resolve<T>(key: string, load: () => Promise<T | undefined>): Promise<Resolved<T>> | Resolved<T> {
    const hit = this.l1.get<T>(key);
    if (hit) return { value: hit.value ?? undefined, tier: 'l1' };
    let pending = this.inFlight.get(key) as Promise<Resolved<T>> | undefined;
    if (!pending) {
      pending = this.miss(key, load).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async miss<T>(key: string, load: () => Promise<T | undefined>): Promise<Resolved<T>> {
    if (this.l2) {
      const shared = await this.l2.get<T>(key);
      if (shared) {
        this.l1.set(key, shared);
        return { value: shared.value ?? undefined, tier: 'l2' };
      }
    }
    let value: T | undefined;
    try {
      value = await load();
    } catch (e) {
      throw new StoreReadFailed(key, e);
    }
    const entry: Cached<T> = { value: value ?? null };
    this.l1.set(key, entry);
    if (this.l2) await this.l2.set(key, entry);
    return { value, tier: 'store' };
  }
}
