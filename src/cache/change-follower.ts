// cache/: follows the store's change feed and evicts what changed from L1, so a write made by
// another process (the CLI, another instance) reaches this one within one poll interval even
// without Redis.
import type { GatewayStore } from '../store/gateway-store.js';
import type { L1Cache } from './l1.js';

export interface ChangeFollowerOptions {
  pollMs: number;
  onError?: (err: unknown) => void;
  onRecover?: () => void;
}

export interface ChangeFollower {
  /** Reads and applies pending changes now; resolves when done. */
  poll(): Promise<void>;
  stop(): void;
}

export async function followChanges(store: GatewayStore, l1: L1Cache, opts: ChangeFollowerOptions): Promise<ChangeFollower> {
  let cursor = await store.latestChangeId();
  let failing = false;
  let running: Promise<void> | undefined;

  const readOnce = async () => {
    try {
      for (;;) {
        const changes = await store.changesSince(cursor);
        for (const c of changes) l1.evict(c.cacheKey);
        if (changes.length > 0) cursor = changes[changes.length - 1]!.id;
        if (changes.length < 1000) break;
      }
      if (failing) {
        failing = false;
        // We may have missed changes while the store was unreadable: forget everything.
        l1.clear();
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
