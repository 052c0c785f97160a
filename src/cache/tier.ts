// cache/: the shape of a shared cache tier between L1 and the store (L2: Redis, cache/l2-redis.ts).
import type { CacheTier } from '../observability/labels.js';
import type { Cached } from './l1.js';

export interface SharedCacheTier {
  /** The entry, or undefined on a miss — and also when the tier is down: it never throws. */
  get<T>(key: string): Promise<Cached<T> | undefined>;
  /** Stores an entry unless the key was invalidated moments ago; never throws. */
  set<T>(key: string, entry: Cached<T>): Promise<void>;
  /** Removes keys (and refuses to re-cache them briefly); remembered and replayed if the tier is down. */
  invalidate(keys: readonly string[]): Promise<void>;
}

/** Which tier answered: one of the access log's and the metrics' fixed values. */
export type Tier = CacheTier;

const DEPTH: Record<Tier, number> = { l1: 0, l2: 1, store: 2 };

/** The deepest tier among several look-ups: what the access log reports. */
export function deepest(a: Tier, b: Tier): Tier {
  return DEPTH[a] >= DEPTH[b] ? a : b;
}
