// cache/: follows the store's change feed and evicts what changed from L1 — and from L2 — so a
// write made by another process (the CLI, another instance) reaches this one within one poll
// interval even without Redis pub/sub, and a writer with no Redis configured (the CLI run without
// REDIS_URL) still cannot leave a revoked record alive in L2 for longer than that.
import type { GatewayStore } from '../store/gateway-store.js';
import type { SharedCacheTier } from './tier.js';

/** Where evictions go: the resolver (L1 and in-flight look-ups), and what is reloaded on eviction. */
export interface EvictionSink {
  /** A promise when eviction reloads something (cache/legacy-org-keys.ts): the poll waits for it, and retries the batch if it fails. */
  evict(keys: readonly string[]): void | Promise<void>;
  clear(): void;
}

export interface ChangeFollowerOptions {
  pollMs: number;
  /** L2: changed keys are invalidated there too (it remembers them while Redis is down). */
  l2?: SharedCacheTier;
  onError?: (err: unknown) => void;
  onRecover?: () => void;
}

export interface ChangeFollower {
  /** Reads and applies pending changes now; resolves when done. */
  poll(): Promise<void>;
  stop(): void;
}

export async function followChanges(store: GatewayStore, sink: EvictionSink, opts: ChangeFollowerOptions): Promise<ChangeFollower> {
  let cursor = await store.latestChangeId();
  let failing = false;
  let running: Promise<void> | undefined;

  const readOnce = async () => {
    try {
      for (;;) {
        const changes = await store.changesSince(cursor);
        if (changes.length > 0) {
          const keys = [...new Set(changes.map((c) => c.cacheKey))];
          await Promise.all([sink.evict(keys), opts.l2?.invalidate(keys)]);
          cursor = changes[changes.length - 1]!.id;
        }
        if (changes.length < 1000) break;
      }
      if (failing) {
        failing = false;
        // The cursor caught up on every change missed while the store was unreadable; emptying L1
        // as well guards against a pruned feed. Stale serving only matters while the store is down.
        sink.clear();
        opts.onRecover?.();
      }
    } catch (e) {
      if (!failing) opts.onError?.(e);
      failing = true;
    }
  };
  const poll = () => (running ??= readOnce().finally(() => (running = undefined)));
  const timer = setInterval(() => void poll(), opts.pollMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}
