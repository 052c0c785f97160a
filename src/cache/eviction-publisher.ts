// cache/: evictions for a writer that is not a gateway instance (the CLI, a test harness, a batch
// job) but has Redis configured: after each committed write, tombstone the keys in L2 and publish
// them on the eviction channel, so every instance evicts within milliseconds instead of one
// change-feed poll. Without Redis, or if Redis is down, nothing is lost: the instances' change-feed
// followers evict L1 and L2 themselves.
import type { Config } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { createRedisClient, L2_FORMAT } from './l2-redis.js';

export interface EvictionPublisher {
  /** Resolves when every publish started so far has been sent (or given up). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Publishes the evictions of every write committed through `store`. */
export function publishStoreEvictions(store: Store, cfg: Config['redis']): EvictionPublisher {
  const client = createRedisClient(cfg, { waitForConnection: true }); // queue commands until connected…
  client.on('error', () => {});
  const inFlight = new Set<Promise<unknown>>();
  const channel = `${cfg.keyPrefix}evict`;

  const publish = async (keys: string[]) => {
    const send = Promise.all([
      ...keys.map((k) => client.set(`${cfg.keyPrefix}${L2_FORMAT}:${k}`, '-', 'PX', cfg.tombstoneMs)),
      client.publish(channel, JSON.stringify(keys)),
    ]);
    // …but never wait long: the change feed is the fallback.
    await Promise.race([send, new Promise((r) => setTimeout(r, 2000).unref())]).catch(() => {});
  };
  const unlisten = store.onCommittedChanges((keys) => {
    const p = publish(keys).finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  return {
    drain: async () => {
      await Promise.all([...inFlight]);
    },
    async close() {
      unlisten();
      await Promise.all([...inFlight]);
      client.disconnect();
    },
  };
}
