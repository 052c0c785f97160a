// cache/: the shape of a shared cache tier between L1 and the store (L2: Redis, a later part).
import type { Cached } from './l1.js';

export interface SharedCacheTier {
  get<T>(key: string): Promise<Cached<T> | undefined>;
  set<T>(key: string, entry: Cached<T>): Promise<void>;
}

export type Tier = 'l1' | 'l2' | 'store';
