// cache/: the shape of a shared cache tier between L1 and the store (L2: Redis, cache/l2-redis.ts).
import type { Cached } from './l1.js';

export interface SharedCacheTier {
  /** The entry, or undefined on a miss — and also when the tier is down: it never throws. */
  get<T>(key: string): Promise<Cached<T> | undefined>;
  /** Stores an entry unless the key was invalidated moments ago; never throws. */
  set<T>(key: string, entry: Cached<T>): Promise<void>;
  /** Removes keys (and refuses to re-cache them briefly); remembered and replayed if the tier is down. */
  invalidate(keys: readonly string[]): Promise<void>;
}

export type Tier = 'l1' | 'l2' | 'store';
