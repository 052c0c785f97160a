// store/: batches `last_used_at` / `last_used_ip` of tokens. A request only sets a map entry; every
// interval the batch is written — one UPDATE per token and client address used, however many requests
// it served — and on shutdown. A crash loses at most one interval; a failed flush keeps its entries for the next.
import type { GatewayStore, TokenUse } from './gateway-store.js';

export interface LastUsedOptions {
  flushIntervalMs: number;
  onError?: (err: unknown) => void;
}

export interface LastUsedRecorder {
  /** /!\ Hot path: remembers the use in memory only. */
  record(tokenId: string, ip: string | undefined): void;
  /** Writes what was recorded so far. */
  flush(): Promise<void>;
  /** Stops the timer and flushes one last time. */
  stop(): Promise<void>;
}

// One entry per token and address, so the distinct addresses of an interval all reach the store.
const keyOf = (tokenId: string, ip: string | null) => `${tokenId} ${ip ?? ''}`;

/** A use as recorded on the hot path: the clock as a number, turned into a timestamp at flush. */
interface PendingUse {
  id: string;
  atMs: number;
  ip: string | null;
}

export function recordLastUsed(store: Pick<GatewayStore, 'recordTokenUse'>, opts: LastUsedOptions): LastUsedRecorder {
  let batch = new Map<string, PendingUse>();
  let flushing: Promise<void> | undefined;

  const flushOnce = async () => {
    if (batch.size === 0) return;
    const pending = [...batch.values()];
    batch = new Map();
    const uses: TokenUse[] = pending.map((u) => ({ id: u.id, at: new Date(u.atMs).toISOString(), ip: u.ip }));
    try {
      await store.recordTokenUse(uses);
    } catch (e) {
      // Keep them for the next interval, unless a newer use was recorded meanwhile.
      for (const u of pending) if (!batch.has(keyOf(u.id, u.ip))) batch.set(keyOf(u.id, u.ip), u);
      opts.onError?.(e);
    }
  };
  const flush = () => (flushing ??= flushOnce().finally(() => (flushing = undefined)));
  const timer = setInterval(() => void flush(), opts.flushIntervalMs);
  timer.unref();

  return {
    record(tokenId, ip) {
      const key = keyOf(tokenId, ip ?? null);
      const known = batch.get(key);
      if (known) known.atMs = Date.now();
      else batch.set(key, { id: tokenId, atMs: Date.now(), ip: ip ?? null });
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
